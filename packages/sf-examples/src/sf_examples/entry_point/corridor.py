"""An env that installed packages offer through the ``sf.envs`` entry-point group: no script, no registration call.

sf-examples declares it in its ``pyproject.toml``::

    [project.entry-points."sf.envs"]
    sf_corridor = "sf_examples.entry_point.corridor:make_corridor_env"

Once the package is installed, every process finds ``sf_corridor`` by name (this module is imported only when the env
is made), so it trains and evaluates from the command line alone::

    sf-cli train --env sf_corridor --experiment corridor
    sf-cli enjoy --env sf_corridor --experiment corridor --no_render --max_num_episodes=10

When imported, the module also registers the env with its default overrides, so front ends that load the factory
before resolving the configuration (``sf_examples.args.parse_args``) apply them.

The env: a corridor of ``CELLS`` cells, the agent starts at the left end and is rewarded 1 for reaching the right
end (each step costs 0.01); moving left or right, at most 50 steps.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from sf_examples.defaults import ONE_PROCESS_DEFAULTS
from sf_registry import EnvDefaults, register_env

ENV_NAME = "sf_corridor"
CELLS = 8
MAX_STEPS = 50


class CorridorEnv(gym.Env):
    """Walk right to the end of a corridor; the observation is the agent's cell, one-hot."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 5}

    def __init__(self, render_mode: str | None = None):
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0.0, 1.0, (CELLS,), np.float32)
        self.action_space = gym.spaces.Discrete(2)  # left, right
        self.position = 0
        self.steps = 0

    def _obs(self) -> np.ndarray:
        obs = np.zeros(CELLS, np.float32)
        obs[self.position] = 1.0
        return obs

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.position, self.steps = 0, 0
        return self._obs(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.position = int(np.clip(self.position + (1 if int(action) == 1 else -1), 0, CELLS - 1))
        self.steps += 1
        reached = self.position == CELLS - 1
        reward = (1.0 if reached else 0.0) - 0.01
        return self._obs(), reward, reached, self.steps >= MAX_STEPS and not reached, {}

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        picture = np.full((1, CELLS, 3), 40, np.uint8)
        picture[0, CELLS - 1] = (0, 160, 0)
        picture[0, self.position] = (230, 180, 40)
        return np.kron(picture, np.ones((16, 16, 1), np.uint8))


def make_corridor_env(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """The factory that the ``sf.envs`` entry point names."""
    return CorridorEnv(render_mode=render_mode)


corridor_override_defaults = EnvDefaults(
    ONE_PROCESS_DEFAULTS, {"num_envs_per_worker": 8, "encoder_mlp_layers": [32], "train_for_env_steps": 30_000}
)
"""The default-override hook: a small feed-forward policy trained in one process (solved in a few thousand steps)."""


register_env(ENV_NAME, make_corridor_env, env_override_defaults_func=corridor_override_defaults)
