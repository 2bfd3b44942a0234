"""Trains a MuJoCo locomotion agent (needs ``sf-examples[mujoco]``).

Usage::

    python -m sf_examples.mujoco.train_mujoco --env=mujoco_halfcheetah --experiment=halfcheetah
    python -m sf_examples.mujoco.enjoy_mujoco --env=mujoco_halfcheetah --experiment=halfcheetah --no_render

The defaults are :data:`sf_examples.mujoco.mujoco_env.MUJOCO_PPO_DEFAULTS` (1M env steps);
``sf-cli train --env-module sf_examples.mujoco.mujoco_env --env mujoco_hopper`` does the same.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sf_config import Config
from sf_examples.args import parse_args as parse_example_args
from sf_examples.mujoco.mujoco_env import register_mujoco_envs
from sf_runtime import run_rl


def parse_args(argv: Sequence[str] | None = None, evaluation: bool = False) -> Config:
    """Resolves the command line with the MuJoCo defaults."""
    register_mujoco_envs()
    return parse_example_args(argv, evaluation=evaluation)


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: trains and returns the status (0 success, 1 failure, 2 interrupted)."""
    return run_rl(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
