"""Atari games through ale-py, with the standard preprocessing and the usual Atari PPO defaults.

Needs the ``atari`` extra (``pip install 'sf-examples[atari]'``: ale-py, which ships the game ROMs).

Env names are ``atari_<game>`` (``atari_breakout``, ``atari_pong``, ...; :data:`ATARI_GAMES` lists them). Each is
ALE's v5 game with ``frameskip=1`` (the wrappers skip frames), no sticky actions, the minimal action set, and the
preprocessing of Mnih et al. (2015): up to 30 no-op starts, frame skip ``env_frameskip`` (4) with max-pooling of the
last two frames, a lost life ends the episode for the learner, FIRE after a reset where the game needs it, 84x84
grayscale, ``env_framestack`` (4) stacked frames, rewards clipped to their sign. The learner's episodes are therefore
single lives with clipped rewards; each whole game's unclipped score appears in the statistics as ``game_score``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from sf_examples.env_family import EnvFamily
from sf_runtime import atari_preprocessing

ATARI_GAMES: dict[str, str] = {
    "atari_alien": "Alien",
    "atari_asteroids": "Asteroids",
    "atari_beamrider": "BeamRider",
    "atari_breakout": "Breakout",
    "atari_enduro": "Enduro",
    "atari_montezuma": "MontezumaRevenge",
    "atari_mspacman": "MsPacman",
    "atari_pong": "Pong",
    "atari_qbert": "Qbert",
    "atari_seaquest": "Seaquest",
    "atari_spaceinvaders": "SpaceInvaders",
}
"""sf env name -> ALE game name (the v5 id is ``ALE/<game>-v5``)."""

MAX_FRAMES_PER_EPISODE = 108_000  # 30 minutes of play at 60 frames per second, the usual cap

ATARI_PPO_DEFAULTS: dict[str, Any] = {
    # 8 envs x 128 steps = 1024 samples per update, 4 epochs of 4 minibatches of 256 (Schulman et al. 2017).
    "num_workers": 8,
    "num_envs_per_worker": 1,
    "worker_num_splits": 1,
    "rollout": 128,
    "batch_size": 256,
    "num_batches_per_epoch": 4,
    "num_epochs": 4,
    "recurrence": 1,
    "use_rnn": False,
    "learning_rate": 2.5e-4,
    "lr_schedule": "linear_decay",
    "adam_eps": 1e-5,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "ppo_clip_ratio": 0.1,
    "value_loss_coeff": 0.5,
    "exploration_loss_coeff": 0.01,
    "max_grad_norm": 0.5,
    "normalize_input": False,
    "normalize_returns": False,
    "reward_scale": 1.0,
    # The Nature-DQN network: three convolutions and a 512-unit layer, ReLU, pixels scaled to [0, 1].
    "encoder_conv_architecture": "convnet_atari",
    "encoder_conv_mlp_layers": [512],
    "nonlinearity": "relu",
    "obs_scale": 255.0,
    "env_frameskip": 4,
    "env_framestack": 4,
    # 10M agent steps; sf counts env frames (agent steps x frameskip).
    "train_for_env_steps": 40_000_000,
}
"""The usual Atari PPO hyperparameters, as sf parameters (the "env" layer: the command line still wins)."""


def ale_env_id(full_env_name: str) -> str:
    """The ALE v5 id of an ``atari_<game>`` name.

    Raises:
        ValueError: The name is not one of :data:`ATARI_GAMES`.
    """
    return f"ALE/{ATARI.id_of(full_env_name)}-v5"


def make_atari_env(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """The env factory: ALE's game wrapped in :func:`sf_runtime.atari_preprocessing`.

    Frame skip and frame stack come from ``cfg.env_frameskip`` and ``cfg.env_framestack`` (4 and 4 without a cfg).
    """
    env_id = ale_env_id(full_env_name)
    gym.register_envs(ATARI.require("ale_py", "ale-py"))
    env = gym.make(
        env_id,
        frameskip=1,
        repeat_action_probability=0.0,
        full_action_space=False,
        max_num_frames_per_episode=MAX_FRAMES_PER_EPISODE,
        render_mode=render_mode,
    )
    frameskip = int(cfg.env_frameskip) if cfg is not None else 4
    framestack = int(cfg.env_framestack) if cfg is not None else 4
    return atari_preprocessing(env, frame_skip=frameskip, frame_stack=framestack)


ATARI = EnvFamily("Atari", ATARI_GAMES, make_atari_env, ATARI_PPO_DEFAULTS, extra="atari")
"""The ``atari_<game>`` envs: :func:`make_atari_env` with :data:`ATARI_PPO_DEFAULTS`; their train/enjoy scripts."""

atari_override_defaults = ATARI.override_defaults
"""The default-override hook of every Atari env: :data:`ATARI_PPO_DEFAULTS`."""


def register_atari_envs() -> None:
    """Registers every ``atari_<game>`` of :data:`ATARI_GAMES` with the Atari PPO defaults."""
    ATARI.register()


# Imported as an --env-module (sf-cli), the module registers its envs.
register_atari_envs()
