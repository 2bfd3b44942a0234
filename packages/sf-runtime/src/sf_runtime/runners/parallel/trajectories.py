"""Preallocated shared-memory trajectory buffers, and where each rollout worker's rows live in them.

Every array has a leading *row* dimension (one row = one agent of one env) and a time dimension. The rows are
grouped in *slots*: one slot holds one split of one rollout worker (``rows_per_split`` agents) for one rollout of
``T = cfg.rollout`` steps, and each split owns ``buffers_per_split`` slots it cycles through. Slot ``(w, s, k)``
holds rows ``[base, base + rows_per_split)`` with ``base = ((w * num_splits + s) * buffers_per_split + k) *
rows_per_split``.

Per row, time index ``t`` holds what is known before step ``t``: the observation, the recurrent state, and what
the policy computed from them (action, log-probability, distribution parameters, value, version). Index ``T`` is
the bootstrap observation; ``rnn_states`` has one more index, ``T + 1``, for the state after the action at ``T``
(which becomes index 1 of the next rollout when its action is reused). Rewards, done flags and ``valids`` (False
for the reset step of a gymnasium vector env, whose action is ignored, and for an agent whose info said
``is_active=False``) have ``T`` entries. ``policy_id`` has no time index: the policy of each row for the whole
rollout, written by the rollout worker when it starts filling the slot (read by inference and the learners).

Nothing in here is pickled per step: processes exchange slot coordinates ``(w, s, k, t)`` and index these arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from sf_runtime.runners.parallel.shared_memory import ArraySpec, SharedArena, SharedArray, attach

# Arrays written by the policy (inference) at each time index 0..T.
POLICY_KEYS = ("actions", "log_prob_actions", "action_logits", "values", "policy_version")


@dataclass(frozen=True)
class TrajectoryLayout:
    """The geometry of the trajectory buffers.

    Attributes:
        num_workers: rollout worker processes.
        num_splits: ``worker_num_splits``.
        rows_per_split: agents in one split (envs per split times agents per env).
        buffers_per_split: slots each split cycles through.
        rollout: ``T``.
    """

    num_workers: int
    num_splits: int
    rows_per_split: int
    buffers_per_split: int
    rollout: int

    @property
    def num_rows(self) -> int:
        """Total rows over all slots."""
        return self.num_workers * self.num_splits * self.buffers_per_split * self.rows_per_split

    def slot_base(self, worker: int, split: int, buffer: int) -> int:
        """First row of slot ``(worker, split, buffer)``."""
        return ((worker * self.num_splits + split) * self.buffers_per_split + buffer) * self.rows_per_split


@dataclass(frozen=True)
class StepFormat:
    """Shapes and dtypes of what the policy writes per step (from one forward pass of the actor-critic).

    Attributes:
        actions: (per-row shape, numpy dtype) of the sampled actions.
        action_logits: number of distribution parameters per row.
        rnn_size: length of the recurrent state.
    """

    actions: tuple[tuple[int, ...], str]
    action_logits: int
    rnn_size: int


@dataclass
class TrajectorySpecs:
    """Picklable handles of every trajectory array, for the child processes."""

    layout: TrajectoryLayout
    arrays: dict[str, ArraySpec] = field(default_factory=dict)


def _np_dtype(space_dtype: Any) -> str:
    return np.dtype(space_dtype).name


def allocate_trajectories(
    arena: SharedArena, layout: TrajectoryLayout, obs_space: spaces.Dict, step_format: StepFormat
) -> TrajectorySpecs:
    """Create every trajectory array of a run in shared memory.

    Args:
        arena: owner of the segments.
        layout: geometry.
        obs_space: per-agent observation space (a Dict).
        step_format: shapes of the policy outputs.

    Returns:
        The specs to hand to child processes (and to :class:`TrajectoryBuffers`).
    """
    r, t = layout.num_rows, layout.rollout
    shapes: dict[str, tuple[tuple[int, ...], str]] = {}
    for key, space in obs_space.spaces.items():
        shapes[f"obs/{key}"] = ((r, t + 1, *space.shape), _np_dtype(space.dtype))
    action_shape, action_dtype = step_format.actions
    shapes["rnn_states"] = ((r, t + 2, step_format.rnn_size), "float32")
    shapes["actions"] = ((r, t + 1, *action_shape), action_dtype)
    shapes["log_prob_actions"] = ((r, t + 1), "float32")
    shapes["action_logits"] = ((r, t + 1, step_format.action_logits), "float32")
    shapes["values"] = ((r, t + 1), "float32")
    shapes["policy_version"] = ((r, t + 1), "int64")
    shapes["rewards"] = ((r, t), "float32")
    shapes["dones"] = ((r, t), "bool")
    shapes["time_outs"] = ((r, t), "bool")
    shapes["valids"] = ((r, t), "bool")
    shapes["policy_id"] = ((r,), "int64")
    specs = TrajectorySpecs(layout)
    for key, (shape, dtype) in shapes.items():
        specs.arrays[key] = arena.create(shape, dtype).spec
    return specs


class TrajectoryBuffers:
    """The trajectory arrays mapped in one process, with flat ``[rows * time, ...]`` views for indexed gathers.

    Args:
        specs: from :func:`allocate_trajectories`.
        arrays: already mapped arrays (the owner passes its own); mapped from ``specs`` when not given.
    """

    def __init__(self, specs: TrajectorySpecs, arrays: Mapping[str, SharedArray] | None = None) -> None:
        self.layout = specs.layout
        if arrays is None:
            arrays = attach(specs.arrays)
        self._arrays = dict(arrays)
        self.np: dict[str, np.ndarray] = {k: a.numpy for k, a in self._arrays.items()}
        self.t: dict[str, torch.Tensor] = {k: a.tensor for k, a in self._arrays.items()}
        self.obs_keys = [k.split("/", 1)[1] for k in self.t if k.startswith("obs/")]

    def flat(self, key: str) -> torch.Tensor:
        """``key``'s tensor with rows and time merged: element ``(row, t)`` is at ``row * time_len + t``."""
        tensor = self.t[key]
        return tensor.view(tensor.shape[0] * tensor.shape[1], *tensor.shape[2:])

    def gather_batch(self, rows: torch.Tensor) -> dict[str, Any]:
        """Copy whole trajectories out of the buffers, in the learner's batch layout.

        Args:
            rows: int64 row indices of the trajectories.

        Returns:
            The batch dict of the learner contract (``obs`` and ``values`` with ``T + 1`` entries, the rest ``T``).
        """
        t_len = self.layout.rollout

        def take(key: str, length: int) -> torch.Tensor:
            return self.t[key][:, :length].index_select(0, rows)

        return {
            "obs": {key: take(f"obs/{key}", t_len + 1) for key in self.obs_keys},
            "rnn_states": take("rnn_states", t_len + 1),
            "actions": take("actions", t_len),
            "log_prob_actions": take("log_prob_actions", t_len),
            "action_logits": take("action_logits", t_len),
            "values": take("values", t_len + 1),
            "rewards": take("rewards", t_len),
            "dones": take("dones", t_len),
            "time_outs": take("time_outs", t_len),
            "policy_version": take("policy_version", t_len),
            "valids": take("valids", t_len),
        }
