"""Publishing a policy's weights through shared memory, with a version counter and no locks.

Each policy has one weight slot: every tensor of the actor-critic's ``state_dict`` (parameters and normalizer
statistics) packed into one shared segment, plus two shared counters. The learner is the only writer and follows a
sequence-lock protocol: make ``seq`` odd, copy the tensors, store the new ``version``, make ``seq`` even again. A
reader copies the tensors into its own model and accepts the copy only when ``seq`` was even and unchanged across
it; otherwise it retries. Inference workers check ``version`` before each batch and copy only when it moved.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from sf_runtime.runners.parallel.shared_memory import ArraySpec, SharedArena, SharedArray

_ALIGN = 64


def _state_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {key: value for key, value in model.state_dict().items() if isinstance(value, torch.Tensor)}


class WeightSlot:
    """One policy's shared weights.

    Create it in the owner with :meth:`allocate`; child processes rebuild it from :attr:`handle`.

    Args:
        handle: ``(data spec, counters spec, layout)`` where layout lists ``(key, shape, dtype, byte offset)``.
        arrays: the already mapped arrays (owner), else they are mapped from the specs.
    """

    def __init__(
        self,
        handle: tuple[ArraySpec, ArraySpec, list[tuple[str, tuple[int, ...], str, int]]],
        arrays: tuple[SharedArray, SharedArray] | None = None,
    ) -> None:
        self.handle = handle
        data_spec, counters_spec, layout = handle
        if arrays is None:
            arrays = (SharedArray(data_spec), SharedArray(counters_spec))
        self._data, self._counters = arrays
        raw = self._data.numpy  # uint8
        self.tensors: dict[str, torch.Tensor] = {}
        for key, shape, dtype, offset in layout:
            count = int(np.prod(shape, dtype=np.int64))
            view = np.frombuffer(raw, dtype=np.dtype(dtype), count=count, offset=offset).reshape(shape)
            self.tensors[key] = torch.from_numpy(view)
        self._seq = self._counters.numpy[0:1]
        self._version = self._counters.numpy[1:2]

    @classmethod
    def allocate(cls, arena: SharedArena, model: torch.nn.Module) -> WeightSlot:
        """Create the shared slot sized for ``model``'s state dict (contents zero, version -1).

        Args:
            arena: owner of the segments.
            model: any instance of the policy's actor-critic.
        """
        layout: list[tuple[str, tuple[int, ...], str, int]] = []
        offset = 0
        for key, value in _state_tensors(model).items():
            np_dtype = torch.empty(0, dtype=value.dtype).numpy().dtype
            layout.append((key, tuple(value.shape), np_dtype.name, offset))
            offset += -(-value.numel() * np_dtype.itemsize // _ALIGN) * _ALIGN
        data = arena.create((max(offset, 1),), "uint8")
        counters = arena.create((2,), "int64")
        counters.numpy[1] = -1
        return cls((data.spec, counters.spec, layout), (data, counters))

    @property
    def version(self) -> int:
        """The version of the weights last published (-1 before the first publication)."""
        return int(self._version[0])

    def publish(self, model: torch.nn.Module, version: int) -> None:
        """Copy ``model``'s weights into the slot and announce ``version`` (learner side, single writer)."""
        self._seq[0] += 1
        with torch.no_grad():
            for key, value in _state_tensors(model).items():
                self.tensors[key].copy_(value.detach())
        self._version[0] = version
        self._seq[0] += 1

    def pull(self, model: torch.nn.Module, have_version: int, timeout: float = 10.0) -> int:
        """Copy the published weights into ``model`` when their version differs from ``have_version``.

        Args:
            model: the reader's own actor-critic (same architecture as the publisher's).
            have_version: the version ``model`` holds now.
            timeout: seconds to keep retrying while the writer is busy.

        Returns:
            The version ``model`` holds afterwards.
        """
        if int(self._version[0]) == have_version:
            return have_version
        deadline = time.monotonic() + timeout
        while True:
            seq = int(self._seq[0])
            if seq % 2 == 0:
                version = int(self._version[0])
                # load_state_dict (not a plain copy) so that modules refresh what they derive from their state
                # in load hooks, e.g. a normalizer's cached float32 mean and std.
                model.load_state_dict(self.tensors, strict=True)
                if int(self._seq[0]) == seq:
                    return version
            if time.monotonic() > deadline:
                raise TimeoutError("the weights of the policy stayed busy (a learner died while publishing?)")
            time.sleep(0.0005)
