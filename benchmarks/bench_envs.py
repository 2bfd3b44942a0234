"""Envs of the throughput benchmark, importable by name from worker processes.

- ``bench_pixels``: an 84x84 image env whose frames cost nothing to make (a bright square on a dark field,
  written into a preallocated array): the benchmark measures the framework, not a renderer.
- ``bench_breakout``: Atari Breakout through ale-py with the standard preprocessing of sf-examples' Atari example
  (no-op starts, frameskip 4 with max-pooling, episodic life, fire reset, 84x84 grayscale, 4 stacked frames,
  channels first, clipped rewards), when ale-py is installed.
- ``bench_halfcheetah``: MuJoCo HalfCheetah-v5 through gymnasium, as sf-examples' MuJoCo example makes it, when
  mujoco is installed.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

PIXEL_ENV = "bench_pixels"
BREAKOUT_ENV = "bench_breakout"
HALFCHEETAH_ENV = "bench_halfcheetah"
CARTPOLE_SINGLE_ENV = "bench_cartpole_single"


class PixelEnv(gym.Env):
    """Move a square towards a target on an 84x84 single-channel image; reward 1 when it gets there.

    Observations are ``uint8[1, 84, 84]``; actions are 0..4 (stay, up, down, left, right); episodes last at most 200
    steps.
    """

    metadata = {"render_modes": []}
    SIZE = 84
    SQUARE = 6

    def __init__(self, render_mode=None):
        self.observation_space = spaces.Box(0, 255, (1, self.SIZE, self.SIZE), np.uint8)
        self.action_space = spaces.Discrete(5)
        self._frame = np.zeros((1, self.SIZE, self.SIZE), np.uint8)
        self._pos = np.zeros(2, np.int64)
        self._target = np.zeros(2, np.int64)
        self._steps = 0

    def _draw(self):
        frame = self._frame
        frame.fill(0)
        s = self.SQUARE
        ty, tx = self._target
        frame[0, ty : ty + s, tx : tx + s] = 90
        y, x = self._pos
        frame[0, y : y + s, x : x + s] = 255
        return frame.copy()

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        high = self.SIZE - self.SQUARE
        self._pos[:] = self.np_random.integers(0, high, 2)
        self._target[:] = self.np_random.integers(0, high, 2)
        self._steps = 0
        return self._draw(), {}

    _MOVES = np.array([[0, 0], [-3, 0], [3, 0], [0, -3], [0, 3]], np.int64)

    def step(self, action):
        self._pos[:] = np.clip(self._pos + self._MOVES[int(action)], 0, self.SIZE - self.SQUARE)
        self._steps += 1
        reached = bool(np.abs(self._pos - self._target).max() <= 3)
        if reached:
            self._target[:] = self.np_random.integers(0, self.SIZE - self.SQUARE, 2)
        return self._draw(), float(reached), False, self._steps >= 200, {}


def make_pixel_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    """Factory of ``bench_pixels``."""
    return PixelEnv(render_mode=render_mode)


def breakout_available() -> bool:
    """Whether ale-py (and so Atari Breakout) is installed."""
    try:
        import ale_py  # noqa: F401
    except ImportError:
        return False
    return True


def make_breakout_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    """Factory of ``bench_breakout``: sf-examples' ``atari_breakout`` (frameskip and frame stack 4 without a cfg)."""
    from sf_examples.atari.atari_env import make_atari_env

    return make_atari_env("atari_breakout", cfg, env_config, render_mode)


def mujoco_available() -> bool:
    """Whether MuJoCo (and so HalfCheetah-v5) is installed."""
    try:
        import mujoco  # noqa: F401
    except ImportError:
        return False
    return True


def make_halfcheetah_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    """Factory of ``bench_halfcheetah``: sf-examples' ``mujoco_halfcheetah`` (gymnasium's HalfCheetah-v5)."""
    from sf_examples.mujoco.mujoco_env import make_mujoco_env

    return make_mujoco_env("mujoco_halfcheetah", cfg, env_config, render_mode)


def make_breakout_vector(num_envs: int):
    """ale-py's own vector implementation with the same preprocessing, or None when it is not there."""
    try:
        import ale_py
        from ale_py.vector_env import AtariVectorEnv
    except ImportError:
        return None
    gym.register_envs(ale_py)
    return AtariVectorEnv(
        game="breakout",
        num_envs=num_envs,
        frameskip=4,
        img_height=84,
        img_width=84,
        grayscale=True,
        stack_num=4,
        repeat_action_probability=0.0,
        batch_size=num_envs,
        num_threads=1,
    )


def make_cartpole_single_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    """CartPole-v1 as a single env, so that batched sampling steps a plain loop of them (not the native vector)."""
    return gym.make("CartPole-v1", render_mode=render_mode)


def register_bench_envs() -> None:
    """Register the benchmark envs with sf's registry."""
    from sf_registry import register_env

    register_env(PIXEL_ENV, make_pixel_env)
    register_env(CARTPOLE_SINGLE_ENV, make_cartpole_single_env)
    if breakout_available():
        register_env(BREAKOUT_ENV, make_breakout_env)
    if mujoco_available():
        register_env(HALFCHEETAH_ENV, make_halfcheetah_env)
