"""How a process sets torch up for a run: the device of ``cfg.device`` and the seeds of ``cfg.seed``.

The serial runner, the parallel runner's learner and inference processes, and evaluation all pick their device here.
"""

from __future__ import annotations

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
