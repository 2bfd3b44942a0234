"""Who holds each trajectory slot, in shared memory, so that the bookkeeping survives a rollout worker's death.

A rollout worker fills a slot and hands it to the learners of the policies that control its agents; each learner
gives it back once it no longer needs it. The worker may reuse the slot only when every learner gave it back. The
"held" flags (one per slot and policy) live in shared memory, not in the worker: the worker raises the flags of a
slot before it hands it over, and learner ``p`` lowers its flag before it sends ``MSG_FREE``. A replacement worker
started after a worker died therefore knows which of its slots it may fill (the learners may still hold slots of the
dead worker and give them back later); the slot the dead worker was filling is simply refilled.

Each rollout worker index also has an *incarnation* number, raised by the main process before it starts a
replacement. Requests carry it, inference workers drop requests of an older incarnation, and a worker ignores
answers of an older one: nothing that was meant for the dead worker makes its replacement step early.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sf_runtime.runners.parallel.shared_memory import ArraySpec, SharedArena, SharedArray
from sf_runtime.runners.parallel.trajectories import TrajectoryLayout


class SlotOwnership:
    """Per-slot, per-policy "held by a learner" flags and per-worker incarnation numbers.

    Args:
        handle: ``(held flags spec, incarnations spec)``.
        arrays: the owner's mapped arrays, else mapped from the specs.
    """

    def __init__(self, handle: tuple[ArraySpec, ArraySpec], arrays: tuple[SharedArray, SharedArray] | None = None):
        self.handle = handle
        if arrays is None:
            arrays = (SharedArray(handle[0]), SharedArray(handle[1]))
        self.held: np.ndarray = arrays[0].numpy  # [worker, split, buffer, policy] bool
        self.incarnations: np.ndarray = arrays[1].numpy  # [worker] int64

    @classmethod
    def allocate(cls, arena: SharedArena, layout: TrajectoryLayout, num_policies: int) -> SlotOwnership:
        """Create the shared arrays (no slot held, every worker in incarnation 0)."""
        held = arena.create((layout.num_workers, layout.num_splits, layout.buffers_per_split, num_policies), "bool")
        incarnations = arena.create((layout.num_workers,), "int64")
        return cls((held.spec, incarnations.spec), (held, incarnations))

    def hold(self, worker: int, split: int, buffer: int, policies: Iterable[int]) -> None:
        """Mark a slot as held by the learners of ``policies`` (the worker, right before handing it over)."""
        for p in policies:
            self.held[worker, split, buffer, p] = True

    def release(self, worker: int, split: int, buffer: int, policy: int) -> None:
        """Learner ``policy`` gives a slot back (right before it sends ``MSG_FREE``)."""
        self.held[worker, split, buffer, policy] = False

    def is_held(self, worker: int, split: int, buffer: int) -> bool:
        """Whether any learner still holds a slot."""
        return bool(self.held[worker, split, buffer].any())

    def free_slots(self, worker: int, split: int) -> list[int]:
        """The slots of a split that no learner holds, in index order."""
        return [int(k) for k in np.flatnonzero(~self.held[worker, split].any(axis=-1))]

    def incarnation(self, worker: int) -> int:
        """The current incarnation of a rollout worker index (0 for the first process)."""
        return int(self.incarnations[worker])

    def new_incarnation(self, worker: int) -> int:
        """Start a new incarnation of a worker index (the main process, before starting a replacement)."""
        self.incarnations[worker] += 1
        return int(self.incarnations[worker])
