"""Evaluates a policy trained by :mod:`sf_examples.atari.train_atari`; ``--save_video`` writes an mp4."""

from __future__ import annotations

import sys

from sf_examples.atari.atari_env import ATARI

main = ATARI.enjoy  # the exit status, which also unpacks as ``status, avg_reward``

if __name__ == "__main__":
    sys.exit(main())
