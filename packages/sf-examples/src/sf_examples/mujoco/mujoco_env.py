"""MuJoCo locomotion (gymnasium's v5 envs) with continuous-control PPO defaults.

Needs the ``mujoco`` extra (``pip install 'sf-examples[mujoco]'``). Env names are ``mujoco_<robot>``
(:data:`MUJOCO_ENVS`): HalfCheetah, Hopper, Walker2d and Ant, made with ``gymnasium.make("<Robot>-v5")``. Episodes
are cut at 1000 steps; ``value_bootstrap`` treats that cut as a time limit, not a terminal state.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from sf_examples.env_family import EnvFamily

MUJOCO_ENVS: dict[str, str] = {
    "mujoco_halfcheetah": "HalfCheetah-v5",
    "mujoco_hopper": "Hopper-v5",
    "mujoco_walker": "Walker2d-v5",
    "mujoco_ant": "Ant-v5",
}
"""sf env name -> gymnasium id."""

MUJOCO_PPO_DEFAULTS: dict[str, Any] = {
    # 16 envs x 64 steps = 1024 samples per update, 10 epochs of 4 minibatches of 256.
    "num_workers": 8,
    "num_envs_per_worker": 2,
    "worker_num_splits": 2,
    "rollout": 64,
    "batch_size": 256,
    "num_batches_per_epoch": 4,
    "num_epochs": 10,
    "recurrence": 1,
    "use_rnn": False,
    "learning_rate": 3e-4,
    "lr_schedule": "constant",
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "ppo_clip_ratio": 0.2,
    "value_loss_coeff": 1.0,
    "exploration_loss_coeff": 0.0,
    "max_grad_norm": 1.0,
    "value_bootstrap": True,
    # Running normalization of observations and returns: joint angles and velocities have very different scales.
    "normalize_input": True,
    "normalize_returns": True,
    # Separate 64-64 tanh networks for the policy and the value, a state-independent log std starting at 1.
    "encoder_mlp_layers": [64, 64],
    "nonlinearity": "tanh",
    "actor_critic_share_weights": False,
    "adaptive_stddev": False,
    "initial_stddev": 1.0,
    "policy_initialization": "orthogonal",
    "train_for_env_steps": 1_000_000,
}
"""Continuous-control PPO hyperparameters (Schulman et al. 2017 style), as sf parameters (the "env" layer)."""


def gymnasium_id(full_env_name: str) -> str:
    """The gymnasium id of a ``mujoco_<robot>`` name.

    Raises:
        ValueError: The name is not one of :data:`MUJOCO_ENVS`.
    """
    return MUJOCO.id_of(full_env_name)


def make_mujoco_env(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """The env factory: ``gymnasium.make`` of the robot's v5 env."""
    env_id = gymnasium_id(full_env_name)
    MUJOCO.require("mujoco")
    return gym.make(env_id, render_mode=render_mode)


MUJOCO = EnvFamily("MuJoCo", MUJOCO_ENVS, make_mujoco_env, MUJOCO_PPO_DEFAULTS, extra="mujoco")
"""The ``mujoco_<robot>`` envs: :func:`make_mujoco_env` with :data:`MUJOCO_PPO_DEFAULTS`; their train/enjoy scripts."""

mujoco_override_defaults = MUJOCO.override_defaults
"""The default-override hook of every MuJoCo env: :data:`MUJOCO_PPO_DEFAULTS`."""


def register_mujoco_envs() -> None:
    """Registers every ``mujoco_<robot>`` of :data:`MUJOCO_ENVS` with the continuous-control defaults."""
    MUJOCO.register()


# Imported as an --env-module (sf-cli), the module registers its envs.
register_mujoco_envs()
