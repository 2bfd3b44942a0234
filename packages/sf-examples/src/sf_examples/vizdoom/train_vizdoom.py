"""Trains an agent on a VizDoom scenario (needs ``sf-examples[vizdoom]``).

Usage::

    python -m sf_examples.vizdoom.train_vizdoom --env=doom_basic --experiment=doom_basic
    python -m sf_examples.vizdoom.enjoy_vizdoom --env=doom_basic --experiment=doom_basic --save_video

The defaults (:data:`sf_examples.vizdoom.doom_env.DOOM_DEFAULTS`: frame skip 4, 128x72 RGB frames, a
``convnet_simple`` encoder and a GRU core) come through the env's defaults hook, so ``sf-cli train --env doom_basic``
(the ``sf.envs`` entry point, no script) trains the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sf_config import Config
from sf_examples.args import parse_args as parse_example_args
from sf_examples.vizdoom.doom_env import register_doom_envs
from sf_runtime import run_rl


def parse_args(argv: Sequence[str] | None = None, evaluation: bool = False) -> Config:
    """Resolves the command line with the Doom parameters and defaults."""
    register_doom_envs()
    return parse_example_args(argv, evaluation=evaluation)


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: trains and returns the status (0 success, 1 failure, 2 interrupted)."""
    return run_rl(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
