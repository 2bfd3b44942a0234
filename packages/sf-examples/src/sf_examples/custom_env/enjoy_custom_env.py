"""Evaluates a policy trained by :mod:`sf_examples.custom_env.train_custom_env` (the spec's evaluation template)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sf_examples.custom_env.train_custom_env import parse_args, register_custom_env_envs
from sf_runtime import enjoy


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: the exit status, which also unpacks as ``status, avg_reward``."""
    register_custom_env_envs()
    cfg = parse_args(argv, evaluation=True)
    return enjoy(cfg)


if __name__ == "__main__":
    sys.exit(main())
