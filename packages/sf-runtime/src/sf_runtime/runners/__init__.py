"""Runners: serial (one process) and parallel (worker processes); sync and async.

:func:`run_rl` is the entry point (:func:`make_runner` makes a :class:`Runner` for scripts that attach observers
first, the Sample Factory 2 way); the runner-independent parts of a run (directory, checkpoints, summaries, stop
conditions, observers, status codes, interruption) live in :mod:`sf_runtime.runners.lifecycle`.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable
from typing import Any

from sf_runtime.registrations import refuse_in_child_bootstrap
from sf_runtime.runners.lifecycle import (
    STATUS_FAILURE,
    STATUS_INTERRUPTED,
    STATUS_SUCCESS,
    ExperimentLifecycle,
    ExperimentStatus,
    RunObserver,
)
from sf_runtime.runners.runner import EPISODIC, AlgoObserver, Runner, make_runner

log = logging.getLogger(__name__)

__all__ = [
    "EPISODIC",
    "STATUS_FAILURE",
    "STATUS_INTERRUPTED",
    "STATUS_SUCCESS",
    "AlgoObserver",
    "ExperimentLifecycle",
    "ExperimentStatus",
    "RunObserver",
    "Runner",
    "make_runner",
    "run_rl",
]


def run_rl(cfg: Any, observers: Iterable[RunObserver] = ()) -> int:
    """Train an agent as configured: the serial runner when ``cfg.serial_mode``, else the parallel runner.

    Args:
        cfg: the resolved configuration (``sf_config.make_cfg`` or ``parse_full_cfg``).
        observers: callbacks into the run (:class:`RunObserver`), e.g. to stop once a reward is reached.

    Returns:
        0 on success, 1 on failure, 2 when interrupted by Ctrl-C or SIGTERM (a checkpoint is saved first).
    """
    refuse_in_child_bootstrap()
    if cfg.serial_mode:
        from sf_runtime.runners.serial import run_serial

        return run_serial(cfg, observers)
    if importlib.util.find_spec("sf_runtime.runners.parallel") is None:
        log.error("The parallel runner is not available in this installation; use serial_mode=True")
        return STATUS_FAILURE
    from sf_runtime.runners.parallel import run_parallel

    return run_parallel(cfg, observers)
