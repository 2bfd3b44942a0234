"""Evaluates one policy (``--policy_index``) trained by :mod:`sf_examples.self_play.train_self_play`; it drives both
agents of the env."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sf_examples.self_play.train_self_play import parse_args, register_self_play_envs
from sf_runtime import enjoy


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: the exit status, which also unpacks as ``status, avg_reward``."""
    register_self_play_envs()
    return enjoy(parse_args(argv, evaluation=True))


if __name__ == "__main__":
    sys.exit(main())
