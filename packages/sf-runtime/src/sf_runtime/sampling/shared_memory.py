"""Named shared-memory arrays for the parallel runner, with an owner that removes every segment it made.

The main process creates each array as a file ``/dev/shm/sf_<run>_<index>`` (POSIX shared memory), children map
it by name. Nothing here goes through ``multiprocessing``'s resource tracker: the owner unlinks its segments itself,
and as early as possible (:meth:`SharedArena.unlink_all` once every child has mapped them), so that a run that is
killed later still leaves nothing in ``/dev/shm``.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

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


def _map(name: str, nbytes: int, create: bool) -> mmap.mmap:
    path = _segment_path(name)
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
    fd = os.open(path, flags, 0o600)
    try:
        size = max(nbytes, 1)
        if create:
            os.ftruncate(fd, size)
        return mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)


class SharedArray:
    """One mapped shared array, viewed both as a numpy array and as a torch tensor over the same memory.

    Args:
        spec: which segment, shape and dtype.
        create: True in the owning (main) process, which creates and zero-fills the segment.
    """

    def __init__(self, spec: ArraySpec, create: bool = False) -> None:
        self.spec = spec
        self._mmap = _map(spec.name, spec.nbytes, create)
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
