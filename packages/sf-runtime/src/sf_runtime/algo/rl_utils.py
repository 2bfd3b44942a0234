"""Small RL helpers for scripts and envs: episode ends, samples in a trajectory, a float epsilon."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

EPS = 1e-8
"""A small positive number: a tolerance for comparing floats, and a guard against dividing by zero."""


def make_dones(terminated: Any, truncated: Any) -> Any:
    """Whether each episode ended, for either reason: ``terminated or truncated``, element-wise.

    Gymnasium splits the old ``done`` flag into ``terminated`` (the task ended) and ``truncated`` (a time limit or
    other cut); code that only needs to know whether to reset combines them with this.

    Args:
        terminated: A bool, or an array or tensor of them (one per env or agent).
        truncated: The same kind and shape.

    Returns:
        A bool for bools, a boolean tensor when either argument is a tensor, else a boolean numpy array.
    """
    if isinstance(terminated, torch.Tensor) or isinstance(truncated, torch.Tensor):
        return torch.logical_or(torch.as_tensor(terminated), torch.as_tensor(truncated))
    if np.ndim(terminated) == 0 and np.ndim(truncated) == 0:
        return bool(terminated) or bool(truncated)
    return np.logical_or(terminated, truncated)


def samples_per_trajectory(trajectory: Mapping[str, Any]) -> int:
    """The number of samples (agent steps) in a trajectory batch: the number of entries of its ``"rewards"``.

    sf's trajectory batches are dicts of arrays or tensors whose ``"rewards"`` is ``[num_trajectories, rollout]``
    (one reward per step); a single trajectory's ``[rollout]`` works as well.

    Args:
        trajectory: The trajectory dict.

    Returns:
        The number of samples in it.

    Raises:
        KeyError: The dict has no ``"rewards"``; the message lists the keys it has.
    """
    if "rewards" not in trajectory:
        raise KeyError(f"a trajectory needs a 'rewards' entry to count its samples; it has {sorted(trajectory)}")
    rewards = trajectory["rewards"]
    return int(rewards.numel() if isinstance(rewards, torch.Tensor) else np.size(rewards))
