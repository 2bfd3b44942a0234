"""Evaluates a policy trained by :mod:`sf_examples.multi_agent.train_multi_agent` (all agents use it)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sf_examples.multi_agent.train_multi_agent import parse_args, register_rendezvous_env
from sf_runtime import enjoy


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: the exit status, which also unpacks as ``status, avg_reward``."""
    register_rendezvous_env()
    return enjoy(parse_args(argv, evaluation=True))


if __name__ == "__main__":
    sys.exit(main())
