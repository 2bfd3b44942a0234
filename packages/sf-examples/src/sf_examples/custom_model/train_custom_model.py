"""A custom environment trained with a custom encoder, plugged in through sf's model factory.

Usage::

    python -m sf_examples.custom_model.train_custom_model --env=grid_goal --experiment=grid_goal
    python -m sf_examples.custom_model.enjoy_custom_model --env=grid_goal --experiment=grid_goal --no_render

The env is a small gridworld seen as an image: two 7x7 planes mark the agent and the goal, four actions move the
agent, and reaching the goal ends the episode with reward 1 (each step costs 0.01). The encoder is a two-layer 3x3
convolution followed by a linear layer, which suits such tiny grids better than the Atari-sized default conv stacks.

``register_model_components()`` registers the encoder factory in this process, before ``run_rl``; the runner sends
it (by reference) to the learner and inference processes it starts (``main`` does both).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from sf_config import Config
from sf_examples.args import parse_args as parse_example_args
from sf_examples.defaults import SMALL_PROBLEM_DEFAULTS
from sf_registry import EnvDefaults, register_env
from sf_runtime import Encoder, calc_num_elements, global_model_factory, nonlinearity, run_rl

ENV_NAME = "grid_goal"
GRID = 7
MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]])  # up, down, left, right


class GridGoalEnv(gym.Env):
    """Walk to the goal on a 7x7 grid; observations are two planes (agent, goal), channels first.

    Args:
        full_env_name: The name given with ``--env``.
        cfg: The configuration (``cfg.grid_max_steps`` is read when given).
        env_config: Which env instance this is (unused).
        render_mode: ``"rgb_array"`` for an RGB picture of the grid.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 5}

    def __init__(self, full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
        self.max_steps = int(cfg.grid_max_steps) if cfg is not None else 30
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0.0, 1.0, (2, GRID, GRID), np.float32)
        self.action_space = gym.spaces.Discrete(len(MOVES))
        self.agent = np.zeros(2, np.int64)
        self.goal = np.zeros(2, np.int64)
        self.steps = 0

    def _obs(self) -> np.ndarray:
        obs = np.zeros(self.observation_space.shape, np.float32)
        obs[0, self.agent[0], self.agent[1]] = 1.0
        obs[1, self.goal[0], self.goal[1]] = 1.0
        return obs

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        cells = self.np_random.choice(GRID * GRID, size=2, replace=False)
        self.agent = np.array(divmod(int(cells[0]), GRID))
        self.goal = np.array(divmod(int(cells[1]), GRID))
        self.steps = 0
        return self._obs(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.agent = np.clip(self.agent + MOVES[int(action)], 0, GRID - 1)
        self.steps += 1
        reached = bool((self.agent == self.goal).all())
        reward = (1.0 if reached else 0.0) - 0.01
        return self._obs(), reward, reached, self.steps >= self.max_steps and not reached, {}

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        picture = np.zeros((GRID, GRID, 3), np.uint8)
        picture[self.goal[0], self.goal[1]] = (0, 200, 0)
        picture[self.agent[0], self.agent[1]] = (200, 0, 0)
        return np.kron(picture, np.ones((16, 16, 1), np.uint8))  # 16x16 pixels per cell


def make_grid_goal_env(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """The env factory."""
    return GridGoalEnv(full_env_name, cfg, env_config, render_mode)


def add_grid_goal_args(_env: str, parser: Any, evaluation: bool = False) -> None:
    """The env's own argument."""
    parser.add_argument("--grid_max_steps", default=30, type=int, help="Steps before an episode is cut off")


grid_goal_override_defaults = EnvDefaults(
    SMALL_PROBLEM_DEFAULTS,
    {
        "num_workers": 2,
        "num_envs_per_worker": 8,
        "num_batches_per_epoch": 2,
        "num_epochs": 4,
        "ppo_clip_ratio": 0.2,
        "exploration_loss_coeff": 0.01,
        "normalize_input": False,
        "gamma": 0.97,
        "train_for_env_steps": 300_000,
    },
)
"""Defaults for this env (its default-override hook): a feed-forward policy, two rollout workers of 8 envs each."""


class GridEncoder(Encoder):
    """Two 3x3 convolutions (padding keeps the 7x7 grid) and a linear layer: ``obs["obs"] -> [B, 64]``.

    Args:
        cfg: The configuration (``cfg.nonlinearity`` picks the activation).
        obs_space: The per-agent observation space, a ``Dict`` with the ``"obs"`` image.
    """

    OUT_SIZE = 64

    def __init__(self, cfg: Any, obs_space: gym.spaces.Dict):
        super().__init__(cfg)
        shape = obs_space["obs"].shape
        self.conv = nn.Sequential(
            nn.Conv2d(shape[0], 16, kernel_size=3, padding=1),
            nonlinearity(cfg),
            nn.Conv2d(16, 16, kernel_size=3, padding=1),
            nonlinearity(cfg),
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Linear(calc_num_elements(self.conv, shape), self.OUT_SIZE), nonlinearity(cfg))

    def forward(self, obs_dict: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.conv(obs_dict["obs"]))

    def get_out_size(self) -> int:
        return self.OUT_SIZE


def make_grid_encoder(cfg: Any, obs_space: gym.spaces.Dict) -> Encoder:
    """The encoder factory: ``make_encoder(cfg, obs_space) -> Encoder``."""
    return GridEncoder(cfg, obs_space)


def register_model_components() -> None:
    """Makes every actor-critic built in this process use :class:`GridEncoder`."""
    global_model_factory().register_encoder_factory(make_grid_encoder)


def register_grid_goal_env() -> None:
    """Registers the env with its hooks; after this, ``--env=grid_goal`` works."""
    register_env(
        ENV_NAME,
        make_grid_goal_env,
        add_extra_params_func=add_grid_goal_args,
        env_override_defaults_func=grid_goal_override_defaults,
    )


def parse_args(argv: Sequence[str] | None = None, evaluation: bool = False) -> Config:
    """Resolves the command line with the env's hooks."""
    return parse_example_args(argv, evaluation=evaluation)


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: trains and returns the status (0 success, 1 failure, 2 interrupted)."""
    register_grid_goal_env()
    register_model_components()
    return run_rl(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
