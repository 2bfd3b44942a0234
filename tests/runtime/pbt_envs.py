"""A CartPole with reward shaping and a true objective, for the PBT tests.

Imported by its plain name (the tests put this directory on ``sys.path``; the training-process harness does the same
for its workers); importing it registers ``shaped_cartpole``. The shaped reward is ``alive`` per step (the
reward-shaping scheme ``{"alive": 1.0}`` by default, which PBT perturbs); ``info["true_objective"]`` at the end of an
episode is its length, the unshaped CartPole return (a random policy averages about 22, the maximum is 500).
"""

from __future__ import annotations

import gymnasium as gym

from sf_registry import register_env
from sf_runtime.envs import RewardShapingInterface

DEFAULT_SHAPING = {"alive": 1.0}


class ShapedCartPole(gym.Wrapper, RewardShapingInterface):
    """CartPole whose reward per step is the shaping scheme's ``alive`` coefficient."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.shaping = dict(DEFAULT_SHAPING)
        self.length = 0

    def get_default_reward_shaping(self):
        return dict(DEFAULT_SHAPING)

    def set_reward_shaping(self, reward_shaping, agent_idx):
        self.shaping = dict(reward_shaping)

    def reset(self, **kwargs):
        self.length = 0
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.length += 1
        if terminated or truncated:
            info = {
                **info,
                "true_objective": float(self.length),
                "episode_extra_stats": {"alive": self.shaping["alive"]},
            }
        return obs, float(reward) * self.shaping["alive"], terminated, truncated, info


def make_shaped_cartpole(full_env_name, cfg=None, env_config=None, render_mode=None):
    return ShapedCartPole(gym.make("CartPole-v1", render_mode=render_mode))


register_env("shaped_cartpole", make_shaped_cartpole)
