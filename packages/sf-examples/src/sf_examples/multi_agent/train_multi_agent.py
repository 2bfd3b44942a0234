"""A cooperative multi-agent env: every agent is driven by the same policy and they share one team reward.

Usage::

    python -m sf_examples.multi_agent.train_multi_agent --env=rendezvous --experiment=rendezvous
    python -m sf_examples.multi_agent.enjoy_multi_agent --env=rendezvous --experiment=rendezvous --no_render

Rendezvous: ``--rendezvous_agents`` agents (2 by default) start at random cells of a line of 11 cells and move left,
stay or move right. Each agent sees its own cell and the cells of the others. On every step on which all agents stand
on the same cell, each of them gets reward 1; an episode lasts 25 steps. Agents that walk towards each other and then
stay together score about 20; agents that move at random score about 2.

A multi-agent env in sf follows Sample Factory's convention: it sets ``is_multiagent = True`` and ``num_agents``,
its spaces are those of one agent, and ``reset``/``step`` take and return one list entry per agent.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from sf_config import Config
from sf_examples.args import parse_args as parse_example_args
from sf_examples.defaults import ONE_PROCESS_DEFAULTS
from sf_registry import EnvDefaults, register_env
from sf_runtime import run_rl

ENV_NAME = "rendezvous"
CELLS = 11
EPISODE_STEPS = 25


class RendezvousEnv(gym.Env):
    """Agents on a line, rewarded together on each step they all share a cell.

    Args:
        num_agents: Number of agents (>= 2).
        render_mode: ``"rgb_array"`` draws the line, one row per agent.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 5}
    is_multiagent = True

    def __init__(self, num_agents: int = 2, render_mode: str | None = None):
        if num_agents < 2:
            raise ValueError(f"rendezvous needs at least 2 agents, got --rendezvous_agents={num_agents}")
        self.num_agents = num_agents
        self.render_mode = render_mode
        # Own cell (one-hot) and how many other agents stand on each cell.
        self.observation_space = gym.spaces.Box(0.0, float(num_agents), (2 * CELLS,), np.float32)
        self.action_space = gym.spaces.Discrete(3)  # left, stay, right
        self.positions = np.zeros(num_agents, np.int64)
        self.steps = 0

    def _observations(self) -> list[np.ndarray]:
        counts = np.bincount(self.positions, minlength=CELLS).astype(np.float32)
        observations = []
        for position in self.positions:
            obs = np.zeros(2 * CELLS, np.float32)
            obs[position] = 1.0
            obs[CELLS:] = counts
            obs[CELLS + position] -= 1.0  # the others only
            observations.append(obs)
        return observations

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[list[np.ndarray], list[dict]]:
        super().reset(seed=seed)
        self.positions = self.np_random.integers(0, CELLS, size=self.num_agents)
        self.steps = 0
        return self._observations(), [{} for _ in range(self.num_agents)]

    def step(self, actions: Sequence[int]) -> tuple[list[np.ndarray], list[float], list[bool], list[bool], list[dict]]:
        moves = np.asarray([int(a) for a in actions]) - 1
        self.positions = np.clip(self.positions + moves, 0, CELLS - 1)
        self.steps += 1
        together = float((self.positions == self.positions[0]).all())
        truncated = self.steps >= EPISODE_STEPS
        n = self.num_agents
        return self._observations(), [together] * n, [False] * n, [truncated] * n, [{} for _ in range(n)]

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        picture = np.full((self.num_agents, CELLS, 3), 40, np.uint8)
        for agent, position in enumerate(self.positions):
            picture[agent, position] = (230, 180, 40)
        return np.kron(picture, np.ones((16, 16, 1), np.uint8))


def make_rendezvous_env(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """The env factory."""
    num_agents = int(cfg.rendezvous_agents) if cfg is not None else 2
    return RendezvousEnv(num_agents, render_mode=render_mode)


def add_rendezvous_args(_env: str, parser: Any, evaluation: bool = False) -> None:
    """The env's own argument."""
    parser.add_argument("--rendezvous_agents", default=2, type=int, help="Number of agents that must meet")


rendezvous_override_defaults = EnvDefaults(
    ONE_PROCESS_DEFAULTS,
    {
        "num_envs_per_worker": 8,
        "num_batches_per_epoch": 2,
        "num_epochs": 4,
        "encoder_mlp_layers": [64, 64],
        "ppo_clip_ratio": 0.2,
        "exploration_loss_coeff": 0.01,
        "gamma": 0.95,
        "value_bootstrap": True,
        "train_for_env_steps": 500_000,
    },
)
"""Defaults for this env (its default-override hook): a small feed-forward policy shared by all agents."""


def register_rendezvous_env() -> None:
    """Registers the env with its hooks; after this, ``--env=rendezvous`` works."""
    register_env(
        ENV_NAME,
        make_rendezvous_env,
        add_extra_params_func=add_rendezvous_args,
        env_override_defaults_func=rendezvous_override_defaults,
    )


def parse_args(argv: Sequence[str] | None = None, evaluation: bool = False) -> Config:
    """Resolves the command line with the env's hooks."""
    return parse_example_args(argv, evaluation=evaluation)


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: trains and returns the status (0 success, 1 failure, 2 interrupted)."""
    register_rendezvous_env()
    return run_rl(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
