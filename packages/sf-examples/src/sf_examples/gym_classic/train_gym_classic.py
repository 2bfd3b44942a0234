"""Trains gymnasium's classic-control envs with defaults tuned for each of them.

Usage::

    python -m sf_examples.gym_classic.train_gym_classic --env=CartPole-v1 --experiment=cartpole
    python -m sf_examples.gym_classic.enjoy_gym_classic --env=CartPole-v1 --experiment=cartpole --no_render

The envs are gymnasium's own ids: sf makes them with ``gymnasium.make`` (no registration), and this script only adds
the defaults below on top of the schema's. Any of them can still be changed on the command line. The envs are so
cheap to step that one process (``serial_mode``) is the fastest way to train them; with these defaults CartPole-v1
reaches an average of 450 in about 70k env steps, Acrobot-v1 -100 in about 40k, Pendulum-v1 -250 in about 200k.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from sf_config import Config, parse_sf_args
from sf_examples.args import parse_args as parse_example_args
from sf_examples.defaults import ONE_PROCESS_DEFAULTS
from sf_runtime import run_rl

# Shared by the three envs: a small MLP policy, no RNN, PPO-style epochs over 1024-sample rounds in one process.
_COMMON: dict[str, Any] = {
    **ONE_PROCESS_DEFAULTS,  # its rollout is set for each env below
    "num_envs_per_worker": 16,
    "encoder_mlp_layers": [64, 64],
    "value_bootstrap": True,  # all three end by time limit: bootstrap from the value there
    "ppo_clip_ratio": 0.2,
    "max_grad_norm": 0.5,
    "stats_avg": 100,
    "save_best_after": 0,
}

CLASSIC_CONTROL_DEFAULTS: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        **_COMMON,
        "rollout": 32,
        "num_batches_per_epoch": 2,
        "num_epochs": 4,
        "reward_scale": 0.1,
        "exploration_loss_coeff": 0.003,
        "train_for_env_steps": 200_000,
    },
    "Acrobot-v1": {
        **_COMMON,
        "rollout": 64,
        "num_batches_per_epoch": 4,
        "num_epochs": 4,
        "nonlinearity": "tanh",
        "exploration_loss_coeff": 0.0,
        "train_for_env_steps": 300_000,
    },
    "Pendulum-v1": {
        **_COMMON,
        "rollout": 64,
        "num_batches_per_epoch": 4,
        "num_epochs": 10,
        "gamma": 0.9,  # the swing-up pays off within a few dozen steps
        "nonlinearity": "tanh",
        "exploration_loss_coeff": 0.0,
        "lr_schedule": "linear_decay",
        "train_for_env_steps": 300_000,
    },
}
"""Default overrides per env id (the "env" layer of the configuration)."""

SOLVED_THRESHOLDS = {"CartPole-v1": 450.0, "Acrobot-v1": -100.0, "Pendulum-v1": -250.0}
"""Average episode reward at which each env counts as solved (CartPole's 500 is the maximum)."""


def parse_args(argv: Sequence[str] | None = None, evaluation: bool = False) -> Config:
    """Resolves the command line with the tuned defaults of ``--env`` (one of :data:`CLASSIC_CONTROL_DEFAULTS`).

    Raises:
        ValueError: ``--env`` is not one of the classic-control envs tuned here.
    """
    _, partial = parse_sf_args(None if argv is None else list(argv), evaluation=evaluation)
    if partial.env not in CLASSIC_CONTROL_DEFAULTS:
        raise ValueError(
            f"--env={partial.env!r} has no tuned defaults here; choose one of {sorted(CLASSIC_CONTROL_DEFAULTS)}"
        )
    return parse_example_args(argv, evaluation=evaluation, defaults=CLASSIC_CONTROL_DEFAULTS[partial.env])


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: trains and returns the status (0 success, 1 failure, 2 interrupted)."""
    return run_rl(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
