"""Checks that an environment is one the runtime can train on, with errors that name the problem.

Spaces are checked when the env is created; observations are checked against the declared space on the first reset
and the first step (shape and dtype), and for NaN / inf on every step by the env vectors.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

SUPPORTED_OBSERVATION_SPACES = "Box, or a Dict of Box spaces"
SUPPORTED_ACTION_SPACES = "Discrete, MultiDiscrete, Box, or a Tuple of those"
_FINITE_OBS = "float observations must be finite (NaN/inf would poison the normalizer and the gradients)."
_FINITE_REWARD = "rewards must be finite real numbers (clip or fix the reward before returning it)."


class EnvError(ValueError):
    """An environment cannot be used by the runtime; the message names the env and what is wrong."""


def check_created_env(env: Any, full_env_name: str) -> None:
    """Raises EnvError when a factory returned None or something that is not an environment."""
    if env is None:
        raise EnvError(
            f"The factory of env {full_env_name!r} returned None; it must return an environment instance "
            "(e.g. a gymnasium.Env) with reset() and step()."
        )
    missing = [name for name in ("reset", "step", "observation_space", "action_space") if not hasattr(env, name)]
    if missing:
        raise EnvError(
            f"The factory of env {full_env_name!r} returned {type(env).__name__!r}, which lacks {missing}; it must "
            "return an environment with reset(), step(), observation_space and action_space (e.g. a gymnasium.Env)."
        )


def check_observation_space(space: Any, full_env_name: str) -> None:
    """Raises EnvError unless space is a Box or a Dict of Box spaces."""
    if isinstance(space, spaces.Box):
        return
    if isinstance(space, spaces.Dict):
        bad = {key: type(sub).__name__ for key, sub in space.spaces.items() if not isinstance(sub, spaces.Box)}
        if not bad and len(space.spaces) > 0:
            return
        problem = f"a Dict with unsupported entries {bad}" if bad else "an empty Dict"
    else:
        problem = f"{type(space).__name__} ({space!r})"
    raise EnvError(
        f"Env {full_env_name!r} has observation space {problem}; supported observation spaces: "
        f"{SUPPORTED_OBSERVATION_SPACES}."
    )


def _is_supported_action_space(space: Any, allow_tuple: bool = True) -> bool:
    if isinstance(space, spaces.Discrete | spaces.MultiDiscrete):
        return True
    if isinstance(space, spaces.Box):
        return np.issubdtype(space.dtype, np.floating)
    if allow_tuple and isinstance(space, spaces.Tuple):
        return len(space.spaces) > 0 and all(_is_supported_action_space(sub, allow_tuple=False) for sub in space)
    return False


def check_action_space(space: Any, full_env_name: str) -> None:
    """Raises EnvError unless space is Discrete, MultiDiscrete, a float Box, or a (flat) Tuple of those."""
    if not _is_supported_action_space(space):
        raise EnvError(
            f"Env {full_env_name!r} has action space {space!r}, which sf does not support; supported action spaces: "
            f"{SUPPORTED_ACTION_SPACES} (a Box must have a floating-point dtype, a Tuple must not nest Tuples)."
        )


def check_observation(obs: dict[str, Any], obs_space: spaces.Dict, full_env_name: str, where: str) -> None:
    """Raises EnvError unless each entry of a dict observation has the shape and dtype of its space.

    Args:
        obs: the observation, already in dict form.
        obs_space: the env's (dict) observation space.
        full_env_name: the env, for the message.
        where: when the observation was produced (e.g. "reset", "step"), for the message.
    """
    if not isinstance(obs, dict):
        raise EnvError(
            f"Env {full_env_name!r} returned a {type(obs).__name__} observation from {where}, but its observation "
            f"space is a Dict with keys {list(obs_space.spaces)}; return a dict with those keys."
        )
    for key, space in obs_space.spaces.items():
        if key not in obs:
            raise EnvError(
                f"Env {full_env_name!r} returned an observation without key {key!r} from {where}; its observation "
                f"space has keys {list(obs_space.spaces)}, the observation has {list(obs)}."
            )
        value = obs[key]
        shape = np.shape(value)
        dtype = value.dtype if isinstance(value, np.ndarray | np.generic) else np.asarray(value).dtype
        name = "observation" if key == "obs" and len(obs_space.spaces) == 1 else f"observation[{key!r}]"
        if shape != space.shape:
            raise EnvError(
                f"Env {full_env_name!r} returned an {name} of shape {shape} from {where}, but its observation space "
                f"declares shape {space.shape} ({space!r})."
            )
        if dtype != space.dtype:
            raise EnvError(
                f"Env {full_env_name!r} returned an {name} of dtype {dtype} from {where}, but its observation space "
                f"declares dtype {space.dtype} ({space!r}); cast the observation or fix the space."
            )
        if np.issubdtype(dtype, np.floating) and not np.isfinite(value).all():
            raise EnvError(
                f"Env {full_env_name!r} returned an {name} containing NaN or inf from {where}: {value!r}; {_FINITE_OBS}"
            )


def _all_finite(array: np.ndarray) -> bool:
    # One reduction in the common case: a finite sum means every entry is finite; a non-finite sum may also be an
    # overflow of finite values, so only then is every entry checked.
    return math.isfinite(array.sum()) or bool(np.isfinite(array).all())


def check_finite_batch(
    obs: dict[str, np.ndarray], float_keys: tuple[str, ...], rewards: np.ndarray | None, full_env_name: str
) -> None:
    """Raises EnvError when a batch of observations (float entries only) or rewards (if given) holds NaN or inf."""
    for key in float_keys:
        if not _all_finite(obs[key]):
            bad_rows = np.flatnonzero(~np.isfinite(obs[key]).reshape(len(obs[key]), -1).all(axis=1)).tolist()
            name = "observation" if key == "obs" else f"observation[{key!r}]"
            raise EnvError(
                f"Env {full_env_name!r} returned an {name} containing NaN or inf (agents {bad_rows}), e.g. "
                f"{obs[key][bad_rows[0]]!r}; {_FINITE_OBS}"
            )
    if rewards is not None and not _all_finite(rewards):
        bad_rows = np.flatnonzero(~np.isfinite(rewards)).tolist()
        raise EnvError(
            f"Env {full_env_name!r} returned a NaN or inf reward (agents {bad_rows}: {rewards[bad_rows].tolist()}); "
            f"{_FINITE_REWARD}"
        )


def check_reward(reward: Any, full_env_name: str) -> float:
    """Returns reward as a float; raises EnvError unless it is a finite real number."""
    try:
        value = float(reward)
    except (TypeError, ValueError):
        raise EnvError(
            f"Env {full_env_name!r} returned reward {reward!r} of type {type(reward).__name__}; a reward must be a "
            "real number (one per agent)."
        ) from None
    if not -math.inf < value < math.inf:  # False for NaN too
        raise EnvError(f"Env {full_env_name!r} returned a NaN or inf reward ({reward!r}); {_FINITE_REWARD}")
    return value
