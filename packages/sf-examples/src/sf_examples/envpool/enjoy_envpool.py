"""Evaluates a policy trained by :mod:`sf_examples.envpool.train_envpool`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sf_examples.envpool.train_envpool import parse_args
from sf_runtime import enjoy


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: the exit status, which also unpacks as ``status, avg_reward``."""
    return enjoy(parse_args(argv, evaluation=True))


if __name__ == "__main__":
    sys.exit(main())
