"""How a process sets torch up for a run: the device of ``cfg.device``, the seeds of ``cfg.seed``, and how the C
library's allocator treats the memory a learner frees.

The serial runner, the parallel runner's learner and inference processes, and evaluation all pick their device here.
"""

from __future__ import annotations

import ctypes
import logging
import random
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)


def torch_device(cfg: Any) -> torch.device:
    """The torch device for ``cfg.device``: "gpu", "cpu" or "auto" (the GPU when CUDA is available).

    "gpu" without CUDA falls back to the CPU with a warning.
    """
    if cfg.device == "cpu":
        return torch.device("cpu")
    if cfg.device in ("gpu", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if cfg.device == "gpu":
            log.warning("device=gpu but CUDA is not available: running on the CPU")
        return torch.device("cpu")
    raise ValueError(f"device={cfg.device!r} is not supported: use 'gpu', 'cpu' or 'auto'")


def seed_everything(seed: int | None) -> None:
    """Seed Python, NumPy and torch when a seed is given."""
    if seed is None:
        return
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # mallopt's parameter numbers in glibc's malloc.h


def keep_freed_memory() -> bool:
    """Makes glibc's malloc keep the memory this process frees for its next allocations, instead of returning it.

    A learner on the CPU allocates and frees the same large activation and gradient tensors at every minibatch.
    glibc serves each block above its mmap threshold (at most 32 MiB) with a fresh mapping and unmaps it when it is
    freed, so every minibatch faults its tensors' pages in again: doom_basic's learner took about 100k page faults a
    second and spent over a third of its CPU time in the kernel. With mappings and trimming off, freed blocks stay in
    the heap and are reused; the process keeps its peak memory. The learner processes that sf starts call it first;
    the serial runner does not, as its learner shares the caller's process.

    Returns:
        Whether it applied: False where the C library is not glibc.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
