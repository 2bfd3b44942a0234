"""Evaluates a policy trained by :mod:`sf_examples.mujoco.train_mujoco`."""

from __future__ import annotations

import sys

from sf_examples.mujoco.mujoco_env import MUJOCO

main = MUJOCO.enjoy  # the exit status, which also unpacks as ``status, avg_reward``

if __name__ == "__main__":
    sys.exit(main())
