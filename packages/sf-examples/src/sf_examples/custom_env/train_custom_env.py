"""The spec's custom-environment template, ported from the ``sample_factory`` import paths to sf's own API.

Usage::

    python -m sf_examples.custom_env.train_custom_env --env=custom_env_name --experiment=CustomEnv
    python -m sf_examples.custom_env.enjoy_custom_env --env=custom_env_name --experiment=CustomEnv --no_render

What changes from the template: the imports (``sf_config``, ``sf_registry``, ``sf_runtime`` instead of
``sample_factory.*``), and the env's argument and default hooks are handed to ``register_env``, so that any front end
(this script, ``sf-cli train --env-module sf_examples.custom_env.train_custom_env``) applies them.

The env is a small image task: the observation is a 42x42 grayscale frame lit on its left or right half, and the
action names the lit side (reward 1 when right). A random policy scores half the episode length.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from sf_config import Config, parse_full_cfg, parse_sf_args
from sf_registry import register_env
from sf_runtime import run_rl

ENV_NAME = "custom_env_name"
FRAME = 42  # the smallest square frame the Nature-DQN conv stack (convnet_atari) reduces to 1x1


class CustomEnv(gym.Env):
    """Which half of the frame is lit? Action 0 says left, 1 says right; ``custom_episode_length`` steps.

    Args:
        full_env_name: The name given with ``--env``.
        cfg: The configuration (``cfg.custom_episode_length`` is read when given).
        env_config: Which env instance this is (unused here).
        render_mode: ``"rgb_array"`` returns the frame as an RGB image, None renders nothing.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
        self.name = full_env_name
        self.episode_length = int(cfg.custom_episode_length) if cfg is not None else 16
        if self.episode_length < 1:
            raise ValueError(f"--custom_episode_length must be >= 1, got {self.episode_length}")
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0, 255, (1, FRAME, FRAME), np.uint8)
        self.action_space = gym.spaces.Discrete(2)
        self.side = 0
        self.steps = 0

    def _frame(self) -> np.ndarray:
        self.side = int(self.np_random.integers(2))
        frame = np.zeros(self.observation_space.shape, np.uint8)
        half = FRAME // 2
        frame[:, :, self.side * half : (self.side + 1) * half] = 255
        return frame

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.steps = 0
        return self._frame(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        reward = float(int(action) == self.side)
        self.steps += 1
        return self._frame(), reward, False, self.steps >= self.episode_length, {}

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        frame = np.zeros((FRAME, FRAME), np.uint8)
        half = FRAME // 2
        frame[:, self.side * half : (self.side + 1) * half] = 255
        return np.repeat(frame[:, :, None], 3, axis=2)


def make_custom_env(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """The env factory: ``make_custom_env(full_env_name, cfg=None, env_config=None, render_mode=None)``."""
    return CustomEnv(full_env_name, cfg, env_config, render_mode=render_mode)


def add_custom_env_args(_env: str, p: argparse.ArgumentParser, evaluation: bool = False) -> None:
    """The env's own command-line arguments."""
    p.add_argument("--custom_episode_length", default=16, type=int, help="Steps per episode of CustomEnv")


def custom_env_override_defaults(_env: str, parser: argparse.ArgumentParser) -> None:
    """Defaults for this env (the template's), still overridable from the command line."""
    parser.set_defaults(
        encoder_conv_architecture="convnet_atari",
        obs_scale=255.0,
        gamma=0.99,
        learning_rate=0.00025,
        lr_schedule="linear_decay",
        adam_eps=1e-5,
        use_rnn=False,
        train_for_env_steps=100_000,
    )


def register_custom_env_envs() -> None:
    """Registers the env with its hooks; after this, ``--env=custom_env_name`` works."""
    register_env(
        ENV_NAME,
        make_custom_env,
        add_extra_params_func=add_custom_env_args,
        env_override_defaults_func=custom_env_override_defaults,
    )


def parse_args(argv: Sequence[str] | None = None, evaluation: bool = False) -> Config:
    """The template's two-step parse: learn the env from a first reading, apply its hooks, then resolve it all."""
    argv = None if argv is None else list(argv)
    parser, partial_cfg = parse_sf_args(argv, evaluation=evaluation)
    add_custom_env_args(partial_cfg.env, parser, evaluation=evaluation)
    custom_env_override_defaults(partial_cfg.env, parser)
    return parse_full_cfg(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: trains and returns the status (0 success, 1 failure, 2 interrupted)."""
    register_custom_env_envs()
    cfg = parse_args(argv)
    return run_rl(cfg)


# Imported as an --env-module (sf-cli), the module registers its env.
register_custom_env_envs()

if __name__ == "__main__":
    sys.exit(main())
