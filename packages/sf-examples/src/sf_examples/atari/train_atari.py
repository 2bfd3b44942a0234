"""Trains an agent on an Atari game (needs ``sf-examples[atari]``).

Usage::

    python -m sf_examples.atari.train_atari --env=atari_breakout --experiment=breakout
    python -m sf_examples.atari.enjoy_atari --env=atari_breakout --experiment=breakout --save_video

The defaults are the usual Atari PPO settings (:data:`sf_examples.atari.atari_env.ATARI_PPO_DEFAULTS`) for 10M agent
steps (40M frames); ``sf-cli train --env-module sf_examples.atari.atari_env --env atari_breakout`` does the same.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sf_config import Config
from sf_examples.args import parse_args as parse_example_args
from sf_examples.atari.atari_env import register_atari_envs
from sf_runtime import run_rl


def parse_args(argv: Sequence[str] | None = None, evaluation: bool = False) -> Config:
    """Resolves the command line with the Atari defaults."""
    register_atari_envs()
    return parse_example_args(argv, evaluation=evaluation)


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: trains and returns the status (0 success, 1 failure, 2 interrupted)."""
    return run_rl(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
