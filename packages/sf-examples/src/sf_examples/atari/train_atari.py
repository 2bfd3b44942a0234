"""Trains an agent on an Atari game (needs ``sf-examples[atari]``).

Usage::

    python -m sf_examples.atari.train_atari --env=atari_breakout --experiment=breakout
    python -m sf_examples.atari.enjoy_atari --env=atari_breakout --experiment=breakout --save_video

The defaults are the usual Atari PPO settings (:data:`sf_examples.atari.atari_env.ATARI_PPO_DEFAULTS`) for 10M agent
steps (40M frames); ``sf-cli train --env-module sf_examples.atari.atari_env --env atari_breakout`` does the same.
"""

from __future__ import annotations

import sys

from sf_examples.atari.atari_env import ATARI

parse_args = ATARI.parse_args  # resolves the command line with the Atari defaults
main = ATARI.train  # trains and returns the status (0 success, 1 failure, 2 interrupted)

if __name__ == "__main__":
    sys.exit(main())
