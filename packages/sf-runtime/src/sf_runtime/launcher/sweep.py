"""Running a sweep: load a run description, skip the runs that finished earlier, run the rest on a backend, report.

:func:`run_sweep` is the one entry point: ``python -m sample_factory.launcher.run`` (:func:`launcher_main`) and
``sf-cli sweep`` both call it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from sf_runtime.launcher.processes import ProcessesBackend
from sf_runtime.launcher.report import SweepReporter
from sf_runtime.launcher.run_description import RunDescription, safe_name
from sf_runtime.launcher.state import PENDING, SKIPPED, RunRecord, StopRequest, SweepResult, finished_earlier

BACKENDS = ("processes", "ray")


class SweepError(ValueError):
    """A sweep that cannot start: no such run description module, no RUN_DESCRIPTION in it, an unknown backend."""


def load_run_description(run: str | Path | RunDescription) -> RunDescription:
    """The ``RUN_DESCRIPTION`` of a module, named as for ``python -m`` (``sf_examples.x.experiments.y``) or as a path
    to a ``.py`` file; a :class:`RunDescription` is returned as it is.

    Raises:
        SweepError: no such module or file, or it has no ``RUN_DESCRIPTION`` of the right type. An error raised by the
            module's own code propagates.
    """
    if isinstance(run, RunDescription):
        return run
    text = str(run)
    path = Path(text)
    if text.endswith(".py") or (("/" in text or "\\" in text) and path.exists()):
        if not path.is_file():
            raise SweepError(f"no run description file {text!r}")
        module_name = f"_sf_sweep_{safe_name(path.stem).replace('-', '_').replace('.', '_')}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise SweepError(f"cannot import {text!r} as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(text)
        except ModuleNotFoundError as exc:
            if exc.name and (text == exc.name or text.startswith(exc.name + ".")):
                raise SweepError(
                    f"no run description module {text!r} (no module named {exc.name!r}); give a module importable "
                    "from here (as for python -m) or a path to a .py file"
                ) from exc
            raise
    description = getattr(module, "RUN_DESCRIPTION", None)
    if not isinstance(description, RunDescription):
        found = "none" if description is None else type(description).__name__
        raise SweepError(f"{text!r} must define RUN_DESCRIPTION = RunDescription(...) (found {found})")
    return description


@contextlib.contextmanager
def _stop_signals(stop: StopRequest) -> Iterator[None]:
    """While active, Ctrl-C (SIGINT) and SIGTERM count as stop requests instead of raising (in the main thread;
    elsewhere no handler can be set and nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def make_backend(
    backend: str,
    *,
    max_parallel: int = 4,
    pause_between: float = 1.0,
    num_gpus: int = 1,
    experiments_per_gpu: int = -1,
    pin_cores: bool = True,
    stop_timeout: float = 10.0,
    cpus_per_run: float = 1.0,
    ray_address: str | None = None,
    cwd: Path | None = None,
):
    """The backend object named ``backend`` (``processes`` or ``ray``) with these settings.

    Raises:
        SweepError: an unknown backend, or ``ray`` without Ray installed.
    """
    if backend == "processes":
        return ProcessesBackend(
            max_parallel=max_parallel,
            pause_between=pause_between,
            num_gpus=num_gpus,
            experiments_per_gpu=experiments_per_gpu,
            pin_cores=pin_cores,
            stop_timeout=stop_timeout,
            cwd=cwd,
        )
    if backend == "ray":
        try:
            from sf_runtime.launcher.ray_backend import RayBackend
        except ModuleNotFoundError as exc:
            if exc.name != "ray" and not (exc.name or "").startswith("ray."):
                raise
            raise SweepError("the ray backend needs Ray: pip install 'sf-runtime[ray]'") from exc
        return RayBackend(
            max_parallel=max_parallel,
            pause_between=pause_between,
            num_gpus=num_gpus,
            experiments_per_gpu=experiments_per_gpu,
            cpus_per_run=cpus_per_run,
            stop_timeout=stop_timeout,
            address=ray_address,
            cwd=cwd,
        )
    raise SweepError(f"unknown backend {backend!r}; sf has {', '.join(BACKENDS)}")


def run_sweep(
    run: str | Path | RunDescription,
    train_dir: str | Path = "./train_dir",
    backend: str = "processes",
    *,
    max_parallel: int = 4,
    pause_between: float = 1.0,
    num_gpus: int = 1,
    experiments_per_gpu: int = -1,
    pin_cores: bool = True,
    stop_timeout: float = 10.0,
    cpus_per_run: float = 1.0,
    ray_address: str | None = None,
    stream: TextIO | None = None,
    live: bool | None = None,
    cwd: str | Path | None = None,
) -> SweepResult:
    """Runs every run of a run description that has not finished yet, and reports as it goes.

    Each run lives in ``<train_dir>/<run_name>/<run>/`` with its log (``sweep_log.txt``) and status
    (``sweep_status.json``). Runs whose status says they finished (exit code 0) are skipped; failed, interrupted and
    new runs run (sf resumes a run from the checkpoint in its directory). A failed run does not stop the others.
    Ctrl-C (or SIGTERM) stops the running runs (SIGINT to each, SIGKILL after ``stop_timeout`` seconds) and returns.

    Args:
        run: a :class:`RunDescription`, or the module (``pkg.experiments.name``) or ``.py`` file that defines
            ``RUN_DESCRIPTION``.
        train_dir: the folder the sweep's folder goes in.
        backend: ``processes`` (local processes) or ``ray`` (Ray tasks; needs ``sf-runtime[ray]``).
        max_parallel: at most this many runs at a time.
        pause_between: seconds between two starts.
        num_gpus: GPUs to spread the runs over; 0 hides the GPUs from the runs.
        experiments_per_gpu: runs per GPU at a time; ``<= 0`` (default) assigns no GPU.
        pin_cores: (processes) give each run cores of its own when there is at least one per parallel run.
        stop_timeout: seconds a run has to exit after SIGINT before it is killed.
        cpus_per_run: (ray) CPUs each run reserves, unless its Experiment says ``num_cpus``.
        ray_address: (ray) the cluster to join; default: the running ``ray.init``, else a new local one.
        stream: where progress goes (default stdout).
        live: a live table redrawn in place; default: when ``stream`` is a TTY.
        cwd: the runs' working directory (default: the current one).

    Returns:
        The :class:`SweepResult`; its ``exit_code`` is 0 when every run has finished, 1 when one failed, 2 when
        interrupted.

    Raises:
        SweepError: see :func:`load_run_description` and :func:`make_backend`.
    """
    description = load_run_description(run)
    executor = make_backend(
        backend,
        max_parallel=max_parallel,
        pause_between=pause_between,
        num_gpus=num_gpus,
        experiments_per_gpu=experiments_per_gpu,
        pin_cores=pin_cores,
        stop_timeout=stop_timeout,
        cpus_per_run=cpus_per_run,
        ray_address=ray_address,
        cwd=Path(cwd).absolute() if cwd is not None else None,
    )
    records, reporter = _announce(description, executor, Path(train_dir).absolute(), stream, live)
    started = time.monotonic()
    stop = StopRequest()
    with _stop_signals(stop):
        try:
            executor.execute(records, reporter, stop)
        except KeyboardInterrupt:  # raised before the backend could count it: nothing of it runs any more
            stop()
    result = SweepResult(description.run_name, records, stop.requested, time.monotonic() - started)
    reporter.summary(result)
    return result


def _announce(
    description: RunDescription, executor: Any, train_dir: Path, stream: TextIO | None, live: bool | None
) -> tuple[list[RunRecord], SweepReporter]:
    """The sweep's run records (those that finished earlier marked skipped) and its reporter, which has said what
    will run."""
    specs = description.generate_runs(train_dir)
    records = [RunRecord(spec) for spec in specs]
    for record in records:
        if finished_earlier(record.spec.run_dir):
            record.state, record.exit_code = SKIPPED, 0
    reporter = SweepReporter(description.run_name, records, stream=stream, live=live)
    todo = sum(r.state == PENDING for r in records)
    reporter.line(
        f"{description.run_name}: {len(records)} runs in {specs[0].run_dir.parent}; {len(records) - todo} finished "
        f"earlier, {todo} to run ({executor.describe()})"
    )
    for record in records:
        if record.state == SKIPPED:
            reporter.event(record)
    return records, reporter
