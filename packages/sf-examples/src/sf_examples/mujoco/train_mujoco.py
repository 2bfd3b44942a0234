"""Trains a MuJoCo locomotion agent (needs ``sf-examples[mujoco]``).

Usage::

    python -m sf_examples.mujoco.train_mujoco --env=mujoco_halfcheetah --experiment=halfcheetah
    python -m sf_examples.mujoco.enjoy_mujoco --env=mujoco_halfcheetah --experiment=halfcheetah --no_render

The defaults are :data:`sf_examples.mujoco.mujoco_env.MUJOCO_PPO_DEFAULTS` (1M env steps);
``sf-cli train --env-module sf_examples.mujoco.mujoco_env --env mujoco_hopper`` does the same.
"""

from __future__ import annotations

import sys

from sf_examples.mujoco.mujoco_env import MUJOCO

parse_args = MUJOCO.parse_args  # resolves the command line with the MuJoCo defaults
main = MUJOCO.train  # trains and returns the status (0 success, 1 failure, 2 interrupted)

if __name__ == "__main__":
    sys.exit(main())
