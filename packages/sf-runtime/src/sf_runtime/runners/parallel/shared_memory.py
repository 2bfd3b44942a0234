"""Named shared-memory arrays for the parallel runner, with an owner that removes every segment it made.

The main process creates each array as a file ``/dev/shm/sf_<run>_<index>`` (POSIX shared memory), children map
it by name. Nothing here goes through ``multiprocessing``'s resource tracker: the owner unlinks its segments itself,
and as early as possible (:meth:`SharedArena.unlink_all` once every child has mapped them), so that a run that is
killed later still leaves nothing in ``/dev/shm``.

A process started after the names are gone (a replacement for a rollout worker that died) cannot map them by name.
The owner keeps one open file descriptor per segment for that: :meth:`SharedArena.segment_fds` wraps them in a
picklable :class:`SegmentFds`, which ``multiprocessing`` duplicates into the new child while it starts it (fork
server or spawn start methods, through ``multiprocessing.reduction.DupFd``); the child calls
:meth:`SegmentFds.install` before it maps anything, and from then on mapping a segment by name uses its descriptor.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import reduction
from typing import Any

import numpy as np
import torch

SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
SEGMENT_PREFIX = "sf_"


@dataclass(frozen=True)
class ArraySpec:
    """How to find and view one shared array: a picklable handle handed to child processes.

    Attributes:
        name: segment file name (``sf_<run>_<index>``).
        shape: array shape.
        dtype: numpy dtype string (e.g. ``"float32"``, ``"uint8"``, ``"bool"``).
    """

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def nbytes(self) -> int:
        """Size of the array in bytes."""
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


def _segment_path(name: str) -> str:
    if SHM_DIR is None:
        raise RuntimeError("the parallel runner needs POSIX shared memory (/dev/shm), which this system lacks")
    return os.path.join(SHM_DIR, name)


# Segments whose descriptors this process inherited (see SegmentFds): name -> open file descriptor.
_INHERITED_FDS: dict[str, int] = {}


def _map(name: str, nbytes: int, create: bool, keep_fd: bool = False) -> tuple[mmap.mmap, int | None]:
    """Map a segment (creating it when ``create``); returns the mapping and, with ``keep_fd``, its open descriptor."""
    size = max(nbytes, 1)
    if not create and name in _INHERITED_FDS:
        return mmap.mmap(_INHERITED_FDS[name], size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE), None
    path = _segment_path(name)
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
    fd = os.open(path, flags, 0o600)
    try:
        if create:
            os.ftruncate(fd, size)
        mapping = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    except BaseException:
        os.close(fd)
        raise
    if keep_fd:
        return mapping, fd
    os.close(fd)
    return mapping, None


def _rebuild_segment_fds(names: list[str], dup_fds: list[Any]) -> SegmentFds:
    return SegmentFds(names, [dup.detach() for dup in dup_fds])


class SegmentFds:
    """Open file descriptors of a run's segments, to hand to a child started after the names were unlinked.

    Pickling it while ``multiprocessing`` starts a process (the object is among the process's arguments) passes a
    duplicate of every descriptor to the child; unpickled there, it holds the child's own descriptors.

    Args:
        names: segment names.
        fds: one open descriptor per name.
    """

    def __init__(self, names: list[str], fds: list[int]) -> None:
        self.names = list(names)
        self.fds = list(fds)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _rebuild_segment_fds, (self.names, [reduction.DupFd(fd) for fd in self.fds])

    def install(self) -> None:
        """In the child: map these segments through their descriptors from now on (the names may be gone)."""
        _INHERITED_FDS.update(zip(self.names, self.fds, strict=True))


class SharedArray:
    """One mapped shared array, viewed both as a numpy array and as a torch tensor over the same memory.

    Args:
        spec: which segment, shape and dtype.
        create: True in the owning (main) process, which creates and zero-fills the segment; the owner keeps the
            segment's file descriptor open (``fd``) so that it can hand it to processes started later.
    """

    def __init__(self, spec: ArraySpec, create: bool = False) -> None:
        self.spec = spec
        self._mmap, self.fd = _map(spec.name, spec.nbytes, create, keep_fd=create)
        count = int(np.prod(spec.shape, dtype=np.int64))
        self.numpy: np.ndarray = np.frombuffer(self._mmap, dtype=np.dtype(spec.dtype), count=count).reshape(spec.shape)
        self.tensor: torch.Tensor = torch.from_numpy(self.numpy)


class SharedArena:
    """Creates the shared arrays of one run and owns their removal.

    Args:
        run_tag: a short tag that makes segment names unique; random when not given.
    """

    def __init__(self, run_tag: str | None = None) -> None:
        self.run_tag = run_tag or f"{os.getpid()}_{secrets.token_hex(4)}"
        self._specs: list[ArraySpec] = []
        self._arrays: list[SharedArray] = []
        self._unlinked = False

    @property
    def prefix(self) -> str:
        """The common prefix of every segment name of this run."""
        return f"{SEGMENT_PREFIX}{self.run_tag}_"

    def create(self, shape: Sequence[int], dtype: str | np.dtype) -> SharedArray:
        """Create a zero-filled shared array.

        Args:
            shape: array shape.
            dtype: numpy dtype.

        Returns:
            The mapped array (its ``spec`` is what children need to map it).
        """
        if self._unlinked:
            raise RuntimeError("the arena was already unlinked: create every shared array before starting children")
        spec = ArraySpec(f"{self.prefix}{len(self._specs)}", tuple(int(d) for d in shape), np.dtype(dtype).name)
        self._specs.append(spec)  # registered before creation, so a failed creation is still cleaned up
        array = SharedArray(spec, create=True)
        self._arrays.append(array)
        return array

    def segment_fds(self) -> SegmentFds:
        """The open descriptors of every segment, for a child started after :meth:`unlink_all`."""
        arrays = [a for a in self._arrays if a.fd is not None]
        return SegmentFds([a.spec.name for a in arrays], [a.fd for a in arrays])

    def close_fds(self) -> None:
        """Close the owner's descriptors (the mappings stay valid). Idempotent."""
        for array in self._arrays:
            if array.fd is not None:
                with contextlib.suppress(OSError):
                    os.close(array.fd)
                array.fd = None

    def unlink_all(self) -> None:
        """Remove every segment name of the run (mappings stay valid in the processes that hold them). Idempotent."""
        for spec in self._specs:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(_segment_path(spec.name))
        self._unlinked = True

    def leftover_segments(self) -> list[str]:
        """Names of this run's segments still present in ``/dev/shm`` (empty once unlinked)."""
        if SHM_DIR is None:
            return []
        return sorted(name for name in os.listdir(SHM_DIR) if name.startswith(self.prefix))


def attach(specs: dict[str, ArraySpec]) -> dict[str, SharedArray]:
    """Map shared arrays by their specs (in a child process).

    Args:
        specs: name -> spec.

    Returns:
        name -> mapped array.
    """
    return {key: SharedArray(spec) for key, spec in specs.items()}
