"""Housekeeping of ``/dev/shm`` before a parallel run allocates its shared memory.

Two checks run at the start of every parallel run, before the first segment is created:

* :func:`sweep_stale_segments`: a run unlinks its segments as soon as every child has mapped them, but a run killed
  while starting (SIGKILL, OOM killer, power loss of a container) leaves its ``sf_<pid>_<tag>_<n>`` files behind.
  Segments whose creating process is gone are removed, and the removal is logged.
* :func:`check_shm_budget`: the trajectory buffers, weight slots and heartbeats are sized by the same code that
  allocates them (run against :class:`SizingArena`, which records sizes and maps nothing); when they do not fit in
  the free space of ``/dev/shm`` the run stops with :class:`SharedMemoryBudgetError`, which says how much is needed,
  how much is free, and how to get there, instead of a bus error in a worker later.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sf_runtime.runners.parallel.shared_memory import SEGMENT_PREFIX, SHM_DIR, ArraySpec

log = logging.getLogger(__name__)

# sf_<creator pid>_<random tag>_<array index>, as SharedArena names them.
_SEGMENT_RE = re.compile(rf"^{SEGMENT_PREFIX}(\d+)_[0-9a-f]+_\d+$")
# Shared memory used besides the arrays counted exactly (allocator rounding, small queues): kept free on top.
_HEADROOM_BYTES = 8 * 2**20
# Slack between a process's recorded start (clock ticks) and a file's modification time.
_START_TIME_SLACK_SEC = 1.0


class SharedMemoryBudgetError(RuntimeError):
    """The run's shared-memory buffers do not fit in ``/dev/shm``; the message has the sizes and the fixes."""


# ---- stale segments of dead runs -----------------------------------------------------------------------------------


def _process_status(pid: int) -> tuple[str, float] | None:
    """A process's state letter (``Z`` for a zombie) and start time (seconds since the epoch), from ``/proc``."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith("btime "))
        return fields[0], boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # fields 3 and 22 of stat
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _creator_alive(pid: int, segment_mtime: float) -> bool:
    """Whether the process that created a segment still runs.

    A zombie (killed, not yet reaped) does not run. A pid can be reused: a process holding the pid that started
    after the segment was last written is not its creator (the creator wrote it while alive, so it started earlier).
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    status = _process_status(pid)
    if status is None:
        return True  # no /proc: trust that the pid exists
    state, started = status
    return state != "Z" and started <= segment_mtime + _START_TIME_SLACK_SEC


def sweep_stale_segments(shm_dir: str | None = SHM_DIR) -> list[str]:
    """Remove the shared-memory segments of sf runs whose main process is gone.

    Segments of live runs (this one, or others running beside it) are left alone. Each removal is logged.

    Args:
        shm_dir: the shared-memory directory (``/dev/shm``); None (no such directory) sweeps nothing.

    Returns:
        The names removed.
    """
    if shm_dir is None or not os.path.isdir(shm_dir):
        return []
    removed: list[str] = []
    freed = 0
    dead: set[int] = set()
    for name in sorted(os.listdir(shm_dir)):
        match = _SEGMENT_RE.match(name)
        if match is None:
            continue
        pid = int(match.group(1))
        path = os.path.join(shm_dir, name)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        if pid == os.getpid() or _creator_alive(pid, st.st_mtime):
            continue
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        except OSError as exc:  # e.g. another user's segment in a shared /dev/shm: not ours to remove
            log.debug("Could not remove the stale segment %s: %s", path, exc)
            continue
        removed.append(name)
        freed += st.st_size
        dead.add(pid)
    if removed:
        log.warning(
            "Removed %d stale shared-memory segment(s) (%.1f MiB) of run(s) that died without cleaning up "
            "(main pid %s) from %s: %s",
            len(removed),
            freed / 2**20,
            ", ".join(str(p) for p in sorted(dead)),
            shm_dir,
            ", ".join(removed),
        )
    return removed


# ---- the budget ------------------------------------------------------------------------------------------------------


class _UnmappedArray:
    """What :class:`SizingArena` hands out: the spec of an array that was not created.

    ``numpy``/``tensor`` are private zero arrays made on first use, for the few small arrays an allocator initializes
    (counters, flags); the large trajectory arrays are never touched.
    """

    def __init__(self, spec: ArraySpec) -> None:
        self.spec = spec
        self._numpy: np.ndarray | None = None

    @property
    def numpy(self) -> np.ndarray:
        if self._numpy is None:
            self._numpy = np.zeros(self.spec.shape, dtype=np.dtype(self.spec.dtype))
        return self._numpy

    @property
    def tensor(self) -> Any:
        import torch

        return torch.from_numpy(self.numpy)


class SizingArena:
    """A stand-in for :class:`.shared_memory.SharedArena` that maps nothing and adds up sizes.

    Running a run's own allocation code against it gives the exact shared memory the run will ask for.

    Attributes:
        specs: every array requested, in order.
    """

    def __init__(self) -> None:
        self.specs: list[ArraySpec] = []

    def create(self, shape: Sequence[int], dtype: str | np.dtype) -> _UnmappedArray:
        """Record an array of ``shape`` and ``dtype`` (no memory is used for it)."""
        spec = ArraySpec(f"sizing_{len(self.specs)}", tuple(int(d) for d in shape), np.dtype(dtype).name)
        self.specs.append(spec)
        return _UnmappedArray(spec)

    @property
    def nbytes(self) -> int:
        """Bytes of every array recorded (each segment is at least one byte, as SharedArena creates them)."""
        return sum(max(spec.nbytes, 1) for spec in self.specs)


@dataclass(frozen=True)
class ShmBudget:
    """Shared memory a run needs and what ``/dev/shm`` offers.

    Attributes:
        needed: bytes of the run's shared arrays.
        largest: shape and dtype, and bytes, of the largest array (usually a trajectory array).
        free: bytes free in the shared-memory directory.
        shm_dir: that directory.
    """

    needed: int
    largest: tuple[str, int]
    free: int
    shm_dir: str

    @property
    def fits(self) -> bool:
        """Whether the arrays and some headroom fit in the free space."""
        return self.needed + _HEADROOM_BYTES <= self.free


def _fmt(nbytes: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{int(nbytes)} B"


def measure_shm_budget(allocate: Callable[[Any], object], shm_dir: str | None = SHM_DIR) -> ShmBudget:
    """Size a run's shared memory by running its allocation code against a :class:`SizingArena`.

    Args:
        allocate: called with the sizing arena; creates every shared array of the run through ``arena.create``.
        shm_dir: the shared-memory directory.

    Returns:
        The sizes.
    """
    if shm_dir is None:
        raise RuntimeError("the parallel runner needs POSIX shared memory (/dev/shm), which this system lacks")
    arena = SizingArena()
    allocate(arena)
    biggest = max(arena.specs, key=lambda s: s.nbytes, default=None)
    largest = (f"{biggest.shape} {biggest.dtype}", biggest.nbytes) if biggest is not None else ("none", 0)
    return ShmBudget(arena.nbytes, largest, shutil.disk_usage(shm_dir).free, shm_dir)


def check_shm_budget(cfg: Any, allocate: Callable[[Any], object], shm_dir: str | None = SHM_DIR) -> ShmBudget:
    """Stop a run whose shared memory would not fit in ``/dev/shm``, before anything is allocated.

    Args:
        cfg: the run's configuration (named in the advice).
        allocate: the run's allocation code, called with a :class:`SizingArena` (see :func:`measure_shm_budget`).
        shm_dir: the shared-memory directory.

    Returns:
        The sizes, when they fit.

    Raises:
        SharedMemoryBudgetError: they do not fit; the message gives the size needed, the size free and the fixes.
    """
    budget = measure_shm_budget(allocate, shm_dir)
    if budget.fits:
        log.info("Shared memory: %s of buffers, %s free in %s", _fmt(budget.needed), _fmt(budget.free), budget.shm_dir)
        return budget
    wanted = budget.needed + _HEADROOM_BYTES
    shm_size_gib = max(1, -(-wanted * 5 // 4 // 2**30))  # 25% above the need, whole GiB
    fraction = budget.free / wanted
    raise SharedMemoryBudgetError(
        f"The trajectory buffers of this run need {_fmt(wanted)} of shared memory ({budget.needed:,} bytes of "
        f"arrays, the largest {budget.largest[0]} of {_fmt(budget.largest[1])}, plus {_fmt(_HEADROOM_BYTES)} "
        f"headroom), but "
        f"{budget.shm_dir} has only {_fmt(budget.free)} free. The size grows with num_workers "
        f"({cfg.num_workers}) x num_envs_per_worker ({cfg.num_envs_per_worker}) x rollout ({cfg.rollout}) "
        f"x observation size (and x num_batches_to_accumulate in async mode). Fix: give the machine more shared "
        f"memory (in Docker: docker run --shm-size={shm_size_gib}g ...; or remount: mount -o remount,"
        f"size={shm_size_gib}G {budget.shm_dir}), or make the buffers at least {1 / max(fraction, 1e-9):.1f}x "
        f"smaller with fewer --num_workers / --num_envs_per_worker or a shorter --rollout."
    )
