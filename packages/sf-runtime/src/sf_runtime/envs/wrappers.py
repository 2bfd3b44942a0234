"""Gymnasium wrappers for env factories: Atari preprocessing and a few general ones, numpy only.

Env factories (a game's integration, not the registry) stack these on their envs; they are exported from
:mod:`sf_runtime` and re-exported by ``sample_factory.envs.env_wrappers`` for Sample Factory 2 scripts.

Atari preprocessing, after Mnih et al. (2015) and Machado et al. (2018): each wrapper does one thing and works on any
gymnasium env whose spaces fit (ALE envs are the usual target, but nothing here imports ale-py).
:func:`atari_preprocessing` stacks them in the standard order:

no-op starts -> frame skip with max-pooling -> episodic life -> fire on reset -> grayscale 84x84 -> reward clipping
-> frame stack 4

which turns a ``(210, 160, 3)`` RGB (or ``(210, 160)`` grayscale) ALE screen into ``(4, 84, 84)`` uint8 observations,
channels first, as sf's convolutional encoders expect. :class:`RecordGameScore` underneath them reports each whole
game's unclipped score.

General wrappers: :class:`PixelFormatChwWrapper` (channels first), :class:`NumpyObsWrapper` (array observations),
:class:`RewardScalingWrapper`, :class:`TimeLimitWrapper` and :class:`RecordingWrapper` (saves each episode).
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

_NOOP_ACTION = 0
# ITU-R BT.601 luma weights, the grayscale conversion ALE and OpenCV use.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _action_meanings(env: gym.Env) -> list[str] | None:
    get_meanings = getattr(env.unwrapped, "get_action_meanings", None)
    return list(get_meanings()) if callable(get_meanings) else None


def _check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class RecordGameScore(gym.Wrapper):
    """Reports the unclipped score and frame count of each whole game in ``info["episode_extra_stats"]``.

    Placed right on the raw env, under :class:`EpisodicLifeEnv` and :class:`ClipRewardEnv`, it sums the game's own
    rewards over all lives. On the step the game ends, ``info["episode_extra_stats"]`` gets ``game_score`` and
    ``game_frames``, which sf's episode statistics pick up (the learner's episodes are single lives with clipped
    rewards, which say little about how well the game is played).
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.score = 0.0
        self.frames = 0

    def reset(self, **kwargs) -> tuple[Any, dict]:
        self.score, self.frames = 0.0, 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.score += float(reward)
        self.frames += 1
        if terminated or truncated:
            info = dict(info)
            info["episode_extra_stats"] = {
                **info.get("episode_extra_stats", {}),
                "game_score": self.score,
                "game_frames": self.frames,
            }
        return obs, reward, terminated, truncated, info


class NoopResetEnv(gym.Wrapper):
    """Starts each episode with a random number (1..``noop_max``) of no-op actions, so starts differ.

    Args:
        env: The env; action 0 must be a no-op (ALE's ``NOOP``).
        noop_max: Most no-ops taken after a reset.

    Raises:
        ValueError: ``noop_max`` is not a positive integer, or the env names its action 0 and it is not ``NOOP``.
    """

    def __init__(self, env: gym.Env, noop_max: int = 30):
        super().__init__(env)
        self.noop_max = _check_positive_int("noop_max", noop_max)
        meanings = _action_meanings(env)
        if meanings is not None and meanings[_NOOP_ACTION] != "NOOP":
            raise ValueError(f"NoopResetEnv needs action 0 to be NOOP, but the env's actions are {meanings}")

    def reset(self, **kwargs) -> tuple[Any, dict]:
        obs, info = self.env.reset(**kwargs)
        num_noops = int(self.unwrapped.np_random.integers(1, self.noop_max + 1))
        for _ in range(num_noops):
            obs, _, terminated, truncated, info = self.env.step(_NOOP_ACTION)
            if terminated or truncated:
                obs, info = self.env.reset()
        return obs, info


class MaxAndSkipEnv(gym.Wrapper):
    """Repeats each action ``skip`` times, sums the rewards, and returns the pixel-wise max of the last two frames.

    The max removes the flicker of Atari sprites drawn only on every other frame.

    Args:
        env: The env.
        skip: Env frames per agent step.
    """

    def __init__(self, env: gym.Env, skip: int = 4):
        super().__init__(env)
        self.skip = _check_positive_int("skip", skip)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict]:
        total_reward = 0.0
        last_frames: deque = deque(maxlen=2)
        terminated = truncated = False
        info: dict = {}
        for _ in range(self.skip):
            obs, reward, terminated, truncated, info = self.env.step(action)
            last_frames.append(obs)
            total_reward += float(reward)
            if terminated or truncated:
                break
        obs = last_frames[-1] if len(last_frames) == 1 else np.maximum(last_frames[0], last_frames[1])
        return obs, total_reward, terminated, truncated, info


class EpisodicLifeEnv(gym.Wrapper):
    """Ends the episode (``terminated``) when a life is lost; the env itself is reset only when the game is over.

    Value estimates then see a life loss as a terminal state, which speeds up learning in most Atari games. Lives
    are read from ``info["lives"]`` (ALE v5) or ``env.unwrapped.ale.lives()``; an env with neither passes through
    unchanged. ``info["game_over"]`` says whether a termination is the real end of the game.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.lives = 0
        self.game_over = True

    def _read_lives(self, info: dict) -> int:
        if "lives" in info:
            return int(info["lives"])
        ale = getattr(self.unwrapped, "ale", None)
        return int(ale.lives()) if ale is not None else 0

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = bool(terminated or truncated)
        lives = self._read_lives(info)
        if 0 < lives < self.lives:
            terminated = True
        self.lives = lives
        info["game_over"] = self.game_over
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs) -> tuple[Any, dict]:
        if self.game_over:
            obs, info = self.env.reset(**kwargs)
        else:
            # A life was lost but the game goes on: continue from the current state with one no-op step.
            obs, _, terminated, truncated, info = self.env.step(_NOOP_ACTION)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        self.game_over = False
        self.lives = self._read_lives(info)
        return obs, info


class FireResetEnv(gym.Wrapper):
    """Presses FIRE (then action 2) after each reset, for games that wait for it to start (Breakout, ...).

    Raises:
        ValueError: The env's action 1 is not ``FIRE`` or it has fewer than 3 actions.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        meanings = _action_meanings(env)
        if meanings is not None and (len(meanings) < 3 or meanings[1] != "FIRE"):
            raise ValueError(f"FireResetEnv needs action 1 to be FIRE and at least 3 actions, got {meanings}")

    def reset(self, **kwargs) -> tuple[Any, dict]:
        self.env.reset(**kwargs)
        for action in (1, 2):
            obs, _, terminated, truncated, info = self.env.step(action)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        return obs, info


def _area_taps(src: int, dst: int) -> tuple[np.ndarray, np.ndarray]:
    """Area resampling of one axis from ``src`` to ``dst`` pixels, as taps: output pixel i is
    ``sum_k weights[i, k] * input[index[i, k]]``, the average of the source pixels it covers.

    Gathers and sums stay away from BLAS, whose threads crawl on a busy machine for matrices this small.

    Returns:
        ``(index int64[dst, K], weights float32[dst, K])``, K the most source pixels one output pixel covers.
    """
    scale = src / dst
    taps: list[list[tuple[int, float]]] = []
    for i in range(dst):
        lo, hi = i * scale, (i + 1) * scale
        taps.append([(j, min(hi, j + 1) - max(lo, j)) for j in range(int(lo), min(int(np.ceil(hi)), src))])
    width = max(len(t) for t in taps)
    index = np.zeros((dst, width), dtype=np.int64)
    weights = np.zeros((dst, width), dtype=np.float32)
    for i, row in enumerate(taps):
        total = sum(w for _, w in row)
        for k, (j, w) in enumerate(row):
            index[i, k], weights[i, k] = j, w / total
    return index, weights


def _resample_axis(image: np.ndarray, axis: int, index: np.ndarray, weights: np.ndarray) -> np.ndarray:
    gathered = np.take(image, index, axis=axis)  # the axis becomes (dst, K)
    shape = [1] * gathered.ndim
    shape[axis], shape[axis + 1] = weights.shape
    return (gathered * weights.reshape(shape)).sum(axis=axis + 1)


class ResizeWrapper(gym.ObservationWrapper):
    """Resizes image observations to ``h x w`` by area averaging, optionally converting RGB to grayscale.

    Args:
        env: An env with ``(H, W)`` or ``(H, W, C)`` uint8 image observations.
        w: Output width.
        h: Output height.
        grayscale: Convert 3-channel RGB to one luminance channel.
        add_channel_dim: Keep a trailing channel axis of size 1 on grayscale output (``(h, w, 1)``).

    Raises:
        ValueError: The observation space is not a 2-D or 3-D Box, or a size is not a positive integer.
    """

    def __init__(self, env: gym.Env, w: int = 84, h: int = 84, grayscale: bool = True, add_channel_dim: bool = False):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, spaces.Box) or len(space.shape) not in (2, 3):
            raise ValueError(f"ResizeWrapper needs (H, W) or (H, W, C) Box observations, got {space}")
        self.w, self.h = _check_positive_int("w", w), _check_positive_int("h", h)
        src_h, src_w = space.shape[:2]
        channels = space.shape[2] if len(space.shape) == 3 else None
        if grayscale and channels not in (None, 1, 3):
            raise ValueError(f"grayscale needs 1 or 3 channels, the observations have shape {space.shape}")
        self.to_gray = grayscale and channels == 3
        self._rows = _area_taps(src_h, self.h)
        self._cols = _area_taps(src_w, self.w)
        if grayscale or channels is None:
            out_channels = 1 if (add_channel_dim or channels == 1) else None
        else:
            out_channels = channels
        shape = (self.h, self.w) if out_channels is None else (self.h, self.w, out_channels)
        self.observation_space = spaces.Box(0, 255, shape=shape, dtype=np.uint8)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        image = np.asarray(observation, dtype=np.float32)
        if self.to_gray:
            image = image @ _LUMA
        resized = _resample_axis(_resample_axis(image, 0, *self._rows), 1, *self._cols)
        out = np.clip(np.rint(resized), 0, 255).astype(np.uint8)
        return out.reshape(self.observation_space.shape)


class PixelFormatChwWrapper(gym.ObservationWrapper):
    """Moves the channel axis first: ``(H, W, C)`` image observations become ``(C, H, W)``."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, spaces.Box) or len(space.shape) != 3:
            raise ValueError(f"PixelFormatChwWrapper needs (H, W, C) Box observations, got {space}")
        self.observation_space = spaces.Box(
            np.moveaxis(space.low, -1, 0), np.moveaxis(space.high, -1, 0), dtype=space.dtype
        )

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(observation, -1, 0))


class FrameStack(gym.Wrapper):
    """Stacks the last ``num_stack`` observations along a new first axis (``(H, W)`` -> ``(num_stack, H, W)``).

    After a reset the stack is filled with copies of the first observation. ``(C, H, W)`` observations are
    concatenated along the channel axis instead (``(num_stack * C, H, W)``).
    """

    def __init__(self, env: gym.Env, num_stack: int = 4):
        super().__init__(env)
        self.num_stack = _check_positive_int("num_stack", num_stack)
        space = env.observation_space
        if not isinstance(space, spaces.Box) or len(space.shape) not in (2, 3):
            raise ValueError(f"FrameStack needs (H, W) or (C, H, W) Box observations, got {space}")
        self._frames: deque = deque(maxlen=self.num_stack)
        self.observation_space = spaces.Box(
            self._stack([space.low] * self.num_stack), self._stack([space.high] * self.num_stack), dtype=space.dtype
        )

    @staticmethod
    def _stack(frames: list[np.ndarray]) -> np.ndarray:
        return np.stack(frames) if frames[0].ndim == 2 else np.concatenate(frames, axis=0)

    def reset(self, **kwargs) -> tuple[np.ndarray, dict]:
        obs, info = self.env.reset(**kwargs)
        self._frames.clear()
        self._frames.extend([obs] * self.num_stack)
        return self._stack(list(self._frames)), info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._frames.append(obs)
        return self._stack(list(self._frames)), reward, terminated, truncated, info


class ClipRewardEnv(gym.RewardWrapper):
    """Replaces each reward by its sign (-1, 0 or +1), so one set of hyperparameters fits games of any score scale."""

    def reward(self, reward: SupportsFloat) -> float:
        return float(np.sign(float(reward)))


def atari_preprocessing(
    env: gym.Env,
    *,
    noop_max: int = 30,
    frame_skip: int = 4,
    episodic_life: bool = True,
    fire_reset: bool = True,
    screen_size: int = 84,
    grayscale: bool = True,
    frame_stack: int = 4,
    clip_reward: bool = True,
    record_game_score: bool = True,
) -> gym.Env:
    """Wraps an Atari env (ALE with ``frameskip=1``) in the standard DQN/PPO preprocessing.

    Args:
        env: The raw env, e.g. ``gymnasium.make("ALE/Breakout-v5", frameskip=1, repeat_action_probability=0.0)``.
        noop_max: Most random no-ops after a reset (0 disables them).
        frame_skip: Env frames per agent step, with max-pooling of the last two (1 disables it).
        episodic_life: A lost life ends the episode for the learner.
        fire_reset: Press FIRE after resets, only applied if the game has a FIRE action.
        screen_size: Side of the square output frame.
        grayscale: One luminance channel instead of RGB.
        frame_stack: Number of stacked frames (1 disables stacking, but keeps a channel axis first).
        clip_reward: Rewards become their sign.
        record_game_score: Report each whole game's unclipped score (:class:`RecordGameScore`).

    Returns:
        The wrapped env; observations are uint8 ``(frame_stack, screen_size, screen_size)`` for grayscale.
    """
    if record_game_score:
        env = RecordGameScore(env)
    if noop_max > 0:
        env = NoopResetEnv(env, noop_max=noop_max)
    if frame_skip > 1:
        env = MaxAndSkipEnv(env, skip=frame_skip)
    if episodic_life:
        env = EpisodicLifeEnv(env)
    if fire_reset and "FIRE" in (_action_meanings(env) or []):
        env = FireResetEnv(env)
    env = ResizeWrapper(env, screen_size, screen_size, grayscale=grayscale)
    if not grayscale:
        env = PixelFormatChwWrapper(env)
    if clip_reward:
        env = ClipRewardEnv(env)
    return FrameStack(env, frame_stack)


def _map_observation(observation: Any, convert: Any) -> Any:
    if isinstance(observation, dict):
        return {key: convert(value) for key, value in observation.items()}
    return convert(observation)


class NumpyObsWrapper(gym.ObservationWrapper):
    """Turns each observation into a numpy array (in the observation space's dtype), e.g. lazy stacked frames.

    A dict observation is converted key by key. The observation space is unchanged.
    """

    def observation(self, observation: Any) -> Any:
        space = self.observation_space

        def convert(value: Any, key: str | None = None) -> np.ndarray:
            sub = space[key] if key is not None and isinstance(space, spaces.Dict) else space
            return np.asarray(value, dtype=getattr(sub, "dtype", None))

        if isinstance(observation, dict):
            return {key: convert(value, key) for key, value in observation.items()}
        return convert(observation)


class RewardScalingWrapper(gym.RewardWrapper):
    """Multiplies every reward by a constant ``scaling_factor``.

    Args:
        env: The env.
        scaling_factor: A finite number; rewards become ``reward * scaling_factor``.

    Raises:
        ValueError: ``scaling_factor`` is not a finite real number.
    """

    def __init__(self, env: gym.Env, scaling_factor: float):
        super().__init__(env)
        if isinstance(scaling_factor, bool) or not isinstance(scaling_factor, int | float | np.number):
            raise ValueError(f"scaling_factor must be a finite real number, got {scaling_factor!r}")
        if not np.isfinite(float(scaling_factor)):
            raise ValueError(f"scaling_factor must be a finite real number, got {scaling_factor!r}")
        self.scaling_factor = float(scaling_factor)

    def reward(self, reward: SupportsFloat) -> float:
        return float(reward) * self.scaling_factor


class TimeLimitWrapper(gym.Wrapper):
    """Truncates each episode after ``limit`` steps, optionally varied at random per episode.

    With ``random_variation_steps=v``, each episode's limit is ``limit + k`` with ``k`` drawn uniformly from
    ``-v..v`` by the env's own random generator (so ``reset(seed=...)`` makes it reproducible); varying episode
    lengths keeps the envs of one worker from finishing in lockstep. The step that reaches the limit returns
    ``truncated=True`` (unless the env terminated on that step).

    Args:
        env: The env.
        limit: Steps per episode, a positive integer.
        random_variation_steps: Most steps the limit varies by, from 0 (no variation) to ``limit - 1``.

    Raises:
        ValueError: ``limit`` is not a positive integer, or ``random_variation_steps`` is not an integer in
            ``0..limit - 1``.
    """

    def __init__(self, env: gym.Env, limit: int, random_variation_steps: int = 0):
        super().__init__(env)
        self.limit = _check_positive_int("limit", limit)
        variation = random_variation_steps
        if isinstance(variation, bool) or not isinstance(variation, int | np.integer) or not 0 <= variation < limit:
            raise ValueError(
                f"random_variation_steps must be an integer from 0 to limit - 1 = {limit - 1}, got {variation!r}"
            )
        self.random_variation_steps = int(variation)
        self.episode_limit = self.limit
        self.steps = 0

    def reset(self, **kwargs) -> tuple[Any, dict]:
        obs, info = self.env.reset(**kwargs)
        self.steps = 0
        variation = self.random_variation_steps
        if variation:
            offset = int(self.unwrapped.np_random.integers(-variation, variation + 1))
        else:
            offset = 0
        self.episode_limit = self.limit + offset
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        if self.steps >= self.episode_limit and not terminated:
            truncated = True
        return obs, reward, terminated, truncated, info


class RecordingWrapper(gym.Wrapper):
    """Saves every whole episode to ``record_to`` as a compressed numpy archive, for replays and videos.

    Each finished episode becomes ``record_to/ep_<NNNN>_p<player_id>.npz`` (``ep_<NNNN>.npz`` when ``player_id`` is
    None; the first number not taken yet, so several envs can record into one folder) holding ``observations`` (the
    reset observation and one per step; a dict observation gives ``observations_<key>`` arrays), ``actions`` and
    ``rewards`` (one per step). Read one back with ``numpy.load(path)``. An episode cut short by ``close()`` is not
    written.

    Args:
        env: The env.
        record_to: The folder to write to; created if missing.
        player_id: Which agent of a multi-player game this env is, written into the file names.
    """

    def __init__(self, env: gym.Env, record_to: str | os.PathLike, player_id: int | None = 0):
        super().__init__(env)
        self.record_to = Path(record_to)
        self.record_to.mkdir(parents=True, exist_ok=True)
        self.player_id = player_id
        self.episodes_written = 0
        self._observations: list[Any] = []
        self._actions: list[Any] = []
        self._rewards: list[float] = []

    def reset(self, **kwargs) -> tuple[Any, dict]:
        obs, info = self.env.reset(**kwargs)
        self._observations, self._actions, self._rewards = [_map_observation(obs, np.array)], [], []
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._observations.append(_map_observation(obs, np.array))
        self._actions.append(np.array(action))
        self._rewards.append(float(reward))
        if terminated or truncated:
            self._write_episode()
        return obs, reward, terminated, truncated, info

    def _write_episode(self) -> None:
        arrays: dict[str, np.ndarray] = {"actions": np.stack(self._actions), "rewards": np.array(self._rewards)}
        if isinstance(self._observations[0], dict):
            for key in self._observations[0]:
                arrays[f"observations_{key}"] = np.stack([obs[key] for obs in self._observations])
        else:
            arrays["observations"] = np.stack(self._observations)
        suffix = "" if self.player_id is None else f"_p{self.player_id}"
        number = self.episodes_written
        while True:
            path = self.record_to / f"ep_{number:04d}{suffix}.npz"
            try:
                with open(path, "xb") as file:  # exclusive: another env recording here may take a number first
                    np.savez_compressed(file, **arrays)
                break
            except FileExistsError:
                number += 1
        self.episodes_written += 1
        self._observations, self._actions, self._rewards = [], [], []
