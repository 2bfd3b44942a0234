"""Rollouts and weights as flat dicts of contiguous numpy arrays: what travels through Ray's object store.

A sampler actor ships each finished rollout of ``T`` steps of all its agents as one payload: the learner's batch
contract (:data:`sf_runtime.learning.learner.BATCH_KEYS`) with the nested ``obs`` dict flattened into ``obs/<key>``
entries, every value a C-contiguous numpy array. Ray stores such arrays out of band (pickle protocol 5): a payload is
written once into the object store and read without copies on the receiving node; nothing is pickled per step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

_OBS_PREFIX = "obs/"


def to_payload(batch: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A trajectory batch of torch tensors (``obs`` nested) as a flat dict of contiguous numpy arrays."""
    payload: dict[str, np.ndarray] = {}
    for key, value in batch.items():
        if isinstance(value, Mapping):
            for obs_key, obs_value in value.items():
                payload[_OBS_PREFIX + obs_key] = np.ascontiguousarray(obs_value.numpy())
        else:
            payload[key] = np.ascontiguousarray(value.numpy())
    return payload


def payload_nbytes(payload: Mapping[str, np.ndarray]) -> int:
    """Bytes of the arrays of a payload (what the object store holds and ships)."""
    return int(sum(array.nbytes for array in payload.values()))


def split_payload(payload: Mapping[str, np.ndarray], pieces: int) -> list[dict[str, np.ndarray]]:
    """A payload cut into ``pieces`` payloads of equal numbers of trajectories (views: still contiguous rows)."""
    rows = int(payload["rewards"].shape[0])
    if rows % pieces:
        raise ValueError(f"a rollout of {rows} trajectories cannot be cut into {pieces} equal pieces")
    size = rows // pieces
    return [{key: value[i * size : (i + 1) * size] for key, value in payload.items()} for i in range(pieces)]


def to_batch(payloads: Sequence[Mapping[str, np.ndarray]]) -> dict[str, Any]:
    """Payloads concatenated into one trajectory batch of writable torch tensors, ``obs`` nested again.

    The concatenation copies, so the tensors never alias the read-only buffers of the object store.
    """
    if not payloads:
        raise ValueError("no rollouts to make a batch of")
    batch: dict[str, Any] = {"obs": {}}
    for key in payloads[0]:
        tensor = torch.from_numpy(np.concatenate([p[key] for p in payloads]))
        if key.startswith(_OBS_PREFIX):
            batch["obs"][key[len(_OBS_PREFIX) :]] = tensor
        else:
            batch[key] = tensor
    return batch


def state_to_arrays(module: torch.nn.Module) -> dict[str, np.ndarray]:
    """A module's state dict (parameters and persistent buffers) as contiguous CPU numpy arrays, to publish."""
    return {key: np.ascontiguousarray(value.detach().cpu().numpy()) for key, value in module.state_dict().items()}


def load_arrays(module: torch.nn.Module, arrays: Mapping[str, np.ndarray]) -> None:
    """Load weights published by :func:`state_to_arrays` into a module (copies into its own tensors)."""
    module.load_state_dict({key: torch.from_numpy(np.array(value)) for key, value in arrays.items()})
