"""Envs that break the environment contract, for the bad-input fault tests (tests/runtime/test_faults_bad_input.py).

Imported by its plain name in the training process and its workers (the harness puts this directory on sys.path);
importing it registers one env per kind of bad input under ``bad_<kind>``. Every instance misbehaves (these are not
rare faults but envs that are wrong), each in one way:

- ``bad_obs_shape``: observations of shape (3,) where the space declares (4,) (from reset on);
- ``bad_obs_dtype``: float64 observations where the space declares float32 (from reset on);
- ``bad_nan_obs``: a NaN in the observation of the first step (reset is fine);
- ``bad_inf_obs``: an inf in the observation of the first step;
- ``bad_nan_reward`` / ``bad_inf_reward``: a NaN / +inf reward on the first step;
- ``bad_text_actions``: a ``Text`` action space; ``bad_dict_actions``: a nested ``Dict`` action space;
- ``bad_factory_none``: the factory returns None.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sf_registry import register_env

KINDS = (
    "obs_shape",
    "obs_dtype",
    "nan_obs",
    "inf_obs",
    "nan_reward",
    "inf_reward",
    "text_actions",
    "dict_actions",
    "factory_none",
)


class BadCartPole(gym.Wrapper):
    """CartPole that breaks the contract in one way (see the module docstring).

    Args:
        env: the CartPole env.
        kind: one of :data:`KINDS` (except ``"factory_none"``).
    """

    def __init__(self, env: gym.Env, kind: str) -> None:
        super().__init__(env)
        self.kind = kind
        if kind == "text_actions":
            self.action_space = spaces.Text(max_length=8)
        elif kind == "dict_actions":
            self.action_space = spaces.Dict({"move": spaces.Dict({"left": spaces.Discrete(2)})})

    def _observation(self, obs: np.ndarray, first_step: bool) -> np.ndarray:
        if self.kind == "obs_shape":
            return obs[:3]
        if self.kind == "obs_dtype":
            return obs.astype(np.float64)
        if first_step and self.kind in ("nan_obs", "inf_obs"):
            obs = obs.copy()
            obs[1] = np.nan if self.kind == "nan_obs" else np.inf
        return obs

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.steps = 0
        return self._observation(obs, first_step=False), info

    def step(self, action):
        if self.kind in ("text_actions", "dict_actions"):
            action = 0
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        first = self.steps == 1
        if first and self.kind == "nan_reward":
            reward = float("nan")
        elif first and self.kind == "inf_reward":
            reward = float("inf")
        return self._observation(obs, first), reward, terminated, truncated, info


def make_bad_env(full_env_name: str, cfg=None, env_config=None, render_mode=None):
    """Factory of every ``bad_<kind>`` env."""
    kind = full_env_name.removeprefix("bad_")
    if kind == "factory_none":
        return None
    return BadCartPole(gym.make("CartPole-v1", render_mode=render_mode), kind)


for _kind in KINDS:
    register_env(f"bad_{_kind}", make_bad_env)
