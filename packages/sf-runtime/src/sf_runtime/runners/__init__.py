"""Runners: serial (one process), parallel (worker processes) and distributed (``distributed=ray``); sync and async.

:func:`run_rl` is the entry point (:func:`make_runner` makes a :class:`Runner` for scripts that attach observers
first, the Sample Factory 2 way). It resolves the run's configuration once, before any runner exists: a resumed
experiment's saved config.json is layered under the given cfg here, and every part of the run then reads that final
cfg. The runner-independent parts of a run (directory, checkpoints, summaries, stop conditions, observers) live in
:mod:`sf_runtime.runners.lifecycle`; how a run ends (status codes, signals) in :mod:`sf_runtime.outcome`.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterable
from typing import Any

from sf_config import ConfigError, layer_saved_config
from sf_runtime.console_log import attach_console_log, detach_console_log
from sf_runtime.outcome import STATUS_FAILURE, STATUS_INTERRUPTED, STATUS_SUCCESS, ExperimentStatus
from sf_runtime.registrations import refuse_in_child_bootstrap
from sf_runtime.runners.lifecycle import ExperimentLifecycle, RunObserver
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
    """Train an agent as configured: the distributed runner with ``distributed=ray`` (Ray imported only then), the
    serial runner when ``cfg.serial_mode``, else the parallel runner.

    With ``restart_behavior=resume`` an existing experiment's config.json is layered under ``cfg`` first (values
    given on the command line or in code win), so that naming the experiment is enough to resume it; the runner is
    chosen from that final configuration.

    Args:
        cfg: the resolved configuration (``sf_config.make_cfg`` or ``parse_full_cfg``).
        observers: callbacks into the run (:class:`RunObserver`), e.g. to stop once a reward is reached.

    Returns:
        0 on success, 1 on failure, 2 when interrupted by Ctrl-C or SIGTERM (a checkpoint is saved first).
    """
    refuse_in_child_bootstrap()
    console = attach_console_log()
    try:
        try:
            run_cfg = layer_saved_config(cfg)
        except ConfigError as exc:
            log.error("Cannot resume the experiment: %s", exc)
            return STATUS_FAILURE
        if run_cfg is not cfg:
            log.info("Resuming with the saved config.json under the explicit arguments")
        return _run(run_cfg, observers)
    finally:
        detach_console_log(console)


def _run(cfg: Any, observers: Iterable[RunObserver]) -> int:
    if cfg.get("distributed", "none") == "ray":
        if importlib.util.find_spec("ray") is None:
            log.error("distributed=ray needs Ray: pip install 'sf-runtime[ray]'")
            return STATUS_FAILURE
        from sf_runtime.runners.distributed import run_distributed

        return run_distributed(cfg, observers)
    if cfg.serial_mode:
        from sf_runtime.runners.serial import run_serial

        return run_serial(cfg, observers)
    if importlib.util.find_spec("sf_runtime.runners.parallel") is None:
        log.error("The parallel runner is not available in this installation; use serial_mode=True")
        return STATUS_FAILURE
    from sf_runtime.runners.parallel import run_parallel

    return run_parallel(cfg, observers)
