"""Evaluates a policy trained by :mod:`sf_examples.custom_model.train_custom_model` (the same encoder is needed)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sf_examples.custom_model.train_custom_model import parse_args, register_grid_goal_env, register_model_components
from sf_runtime import enjoy


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: the exit status, which also unpacks as ``status, avg_reward``."""
    register_grid_goal_env()
    register_model_components()
    return enjoy(parse_args(argv, evaluation=True))


if __name__ == "__main__":
    sys.exit(main())
