"""Trains an agent on an EnvPool task with batched sampling (needs ``sf-examples[envpool]``).

Usage::

    python -m sf_examples.envpool.train_envpool --env=envpool_breakout --experiment=envpool_breakout
    python -m sf_examples.envpool.enjoy_envpool --env=envpool_breakout --experiment=envpool_breakout --no_render

The defaults (:data:`sf_examples.envpool.envpool_env.ENVPOOL_ATARI_DEFAULTS` and ``ENVPOOL_MUJOCO_DEFAULTS``) turn
``batched_sampling`` on, so each worker split steps one EnvPool of all its envs; ``sf-cli train --env
envpool_breakout`` (the ``sf.envs`` entry point, no script) trains the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sf_config import Config
from sf_examples.args import parse_args as parse_example_args
from sf_examples.envpool.envpool_env import register_envpool_envs
from sf_runtime import run_rl


def parse_args(argv: Sequence[str] | None = None, evaluation: bool = False) -> Config:
    """Resolves the command line with the EnvPool parameters and defaults."""
    register_envpool_envs()
    return parse_example_args(argv, evaluation=evaluation)


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: trains and returns the status (0 success, 1 failure, 2 interrupted)."""
    return run_rl(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
