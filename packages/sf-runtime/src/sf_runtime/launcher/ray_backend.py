"""The ``ray`` backend: each run is a Ray task that reserves the CPUs and GPUs the run asks for.

The only module of sf that imports Ray (an optional extra: ``pip install 'sf-runtime[ray]'``; an import-linter contract
keeps it here). The launcher joins the Ray runtime that is already initialized, or ``ray.init(address=...)`` (a new
local one by default, without the dashboard) and shuts it down at the end.

A task starts the run's command in a session of its own, with its output appended to the run's log, records its
status, and returns its exit code. Ray sets ``CUDA_VISIBLE_DEVICES`` of the task to the GPUs it reserved, and the run
inherits it. The experiment directories must be on a filesystem that the driver and the workers share (always true on
one machine). At most ``max_parallel`` tasks are submitted at a time; Ray starts each when its resources are free.

Ctrl-C on the launcher cancels the tasks: each sends SIGINT to its run's process group, waits ``stop_timeout``
seconds, then kills what is left of the run's session; a run whose task does not report back in time is killed by
the launcher from the pid in its status (the local case).
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ray

from sf_runtime.launcher.processes import kill_session, run_environment, start_run, stop_processes
from sf_runtime.launcher.report import SweepReporter
from sf_runtime.launcher.run_description import RunSpec
from sf_runtime.launcher.state import (
    DONE,
    FAILED,
    INTERRUPTED,
    PENDING,
    QUEUED,
    RUNNING,
    STOPPING,
    RunRecord,
    StopRequest,
    append_log,
    end_attempt,
    read_status,
)

WAIT_S = 0.2


def _run_task(spec: RunSpec, cwd: str | None, stop_timeout: float) -> dict[str, Any]:
    """The body of a run's Ray task: runs the command to its end; on cancellation (KeyboardInterrupt), stops it.

    Returns:
        ``{"exit_code": code, "state": done|failed|interrupted, "pid": pid, "error": text}``.
    """
    gpu = os.environ.get("CUDA_VISIBLE_DEVICES") if ray.get_gpu_ids() else None
    env = run_environment(spec)
    proc, _attempt, error = start_run(spec, env, Path(cwd) if cwd else None, None, gpu=gpu, backend="ray")
    if proc is None:
        end_attempt(spec, FAILED, 127)
        return {"exit_code": 127, "state": FAILED, "pid": None, "error": error}
    try:
        while proc.poll() is None:  # short waits: Ray's cancellation is raised between two of them
            time.sleep(WAIT_S)
        code = proc.returncode
    except KeyboardInterrupt:  # ray.cancel
        killed = stop_processes({proc.pid: proc}, stop_timeout)
        code = proc.returncode
        state = DONE if code == 0 and not killed else INTERRUPTED
        end_attempt(spec, state, code)
        append_log(spec, f"stopped by the launcher ({'killed' if killed else f'exit {code}'})")
        return {"exit_code": code, "state": state, "pid": proc.pid, "error": ""}
    leftovers = kill_session(proc.pid)
    if leftovers:
        append_log(spec, f"killed {leftovers} process(es) of the run still alive after it ended")
    state = DONE if code == 0 else FAILED
    end_attempt(spec, state, code)
    append_log(spec, f"exit code {code} (ray task)")
    return {"exit_code": code, "state": state, "pid": proc.pid, "error": ""}


class RayBackend:
    """Runs a sweep's runs as Ray tasks.

    Args:
        max_parallel: at most this many tasks submitted at a time.
        pause_between: seconds between two submissions.
        num_gpus, experiments_per_gpu: with both > 0, each run reserves ``1 / experiments_per_gpu`` GPU (unless its
            Experiment says ``num_gpus``); otherwise none.
        cpus_per_run: CPUs each run reserves (unless its Experiment says ``num_cpus``).
        stop_timeout: seconds a run has to exit after SIGINT before it is killed.
        address: the Ray cluster to join when Ray is not initialized yet (None: a new local one).
        cwd: the runs' working directory (default: the launcher's).
    """

    name = "ray"

    def __init__(
        self,
        max_parallel: int = 4,
        pause_between: float = 1.0,
        num_gpus: int = 1,
        experiments_per_gpu: int = -1,
        cpus_per_run: float = 1.0,
        stop_timeout: float = 10.0,
        address: str | None = None,
        cwd: Path | None = None,
    ) -> None:
        if max_parallel < 1:
            raise ValueError(f"max_parallel must be >= 1, got {max_parallel}")
        self.max_parallel = max_parallel
        self.pause_between = max(0.0, pause_between)
        self.gpus_per_run = 1.0 / experiments_per_gpu if num_gpus > 0 and experiments_per_gpu > 0 else 0.0
        self.cpus_per_run = cpus_per_run
        self.stop_timeout = stop_timeout
        self.address = address
        self.cwd = str(cwd) if cwd is not None else os.getcwd()
        self._task = ray.remote(_run_task)
        self._attempt_before: dict[str, int] = {}  # each run's attempt count before this sweep

    def describe(self) -> str:
        return f"ray, max_parallel {self.max_parallel}, {self.cpus_per_run:g} CPU and {self.gpus_per_run:g} GPU a run"

    def _submit(self, spec: RunSpec):
        num_cpus = spec.num_cpus if spec.num_cpus is not None else self.cpus_per_run
        num_gpus = spec.num_gpus if spec.num_gpus is not None else self.gpus_per_run
        self._attempt_before[spec.name] = int((read_status(spec.run_dir) or {}).get("attempt", 0))
        task = self._task.options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=0, name=spec.name)
        return task.remote(spec, self.cwd, self.stop_timeout)

    def _started_status(self, record: RunRecord) -> dict[str, Any] | None:
        """The run's status if its task has started an attempt in this sweep that is still running."""
        status = read_status(record.spec.run_dir) or {}
        started = int(status.get("attempt", 0)) > self._attempt_before.get(record.name, 0)
        return status if started and status.get("state") == RUNNING and status.get("pid") else None

    def execute(self, records: Sequence[RunRecord], reporter: SweepReporter, stop: StopRequest) -> None:
        """Runs the pending records as Ray tasks; returns when all have ended, or after stopping them once ``stop``
        is requested."""
        own_runtime = not ray.is_initialized()
        if own_runtime:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        try:
            self._execute(records, reporter, stop)
        finally:
            if own_runtime:
                ray.shutdown()

    def _execute(self, records: Sequence[RunRecord], reporter: SweepReporter, stop: StopRequest) -> None:
        todo = collections.deque(r for r in records if r.state == PENDING)
        in_flight: dict[Any, RunRecord] = {}
        last_submit = -float("inf")
        try:
            while (todo or in_flight) and not stop.requested:
                while (
                    todo
                    and len(in_flight) < self.max_parallel
                    and not stop.requested
                    and time.monotonic() - last_submit >= self.pause_between
                ):
                    record = todo.popleft()
                    in_flight[self._submit(record.spec)] = record
                    record.state = QUEUED
                    last_submit = time.monotonic()
                    reporter.event(record)
                if in_flight:
                    ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=WAIT_S)
                    for ref in ready:
                        self._finished(in_flight.pop(ref), ref, reporter)
                self._notice_starts(in_flight.values(), reporter)
                reporter.tick()
                if not in_flight:
                    time.sleep(WAIT_S)
        except KeyboardInterrupt:
            stop()
        if stop.requested:
            self._stop(in_flight, reporter, stop)

    def _notice_starts(self, records, reporter: SweepReporter) -> None:
        """Queued runs whose task has started (their status says running, with a pid) show as running."""
        for record in records:
            if record.state != QUEUED:
                continue
            status = self._started_status(record)
            if status:
                record.attempt = status["attempt"]
                record.gpu = status.get("gpu")
                record.start(status["pid"])
                reporter.event(record)

    @staticmethod
    def _finished(record: RunRecord, ref, reporter: SweepReporter) -> None:
        if record.started is None:
            record.start(None)
        try:
            outcome = ray.get(ref)
        except Exception as exc:  # the task itself failed (worker died, Ray error)
            record.note = f"ray task failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            append_log(record.spec, record.note)
            end_attempt(record.spec, FAILED, None)
            record.end(FAILED, None)
            reporter.event(record)
            return
        record.pid = outcome.get("pid") or record.pid
        record.note = outcome.get("error", "")
        record.end(outcome["state"], outcome["exit_code"])
        reporter.event(record)

    def _stop(self, in_flight: dict[Any, RunRecord], reporter: SweepReporter, stop: StopRequest) -> None:
        if not in_flight:
            return
        reporter.line(
            f"interrupted: stopping {len(in_flight)} run(s) (SIGINT, SIGKILL after {self.stop_timeout:g}s; "
            "Ctrl-C again to kill now)"
        )
        for ref, record in in_flight.items():
            if record.state == RUNNING:
                record.state = STOPPING
                reporter.event(record)
            with contextlib.suppress(Exception):
                ray.cancel(ref)
        deadline = time.monotonic() + self.stop_timeout + 5
        pending = dict(in_flight)
        while pending and time.monotonic() < deadline and not stop.urgent:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=WAIT_S)
            for ref in ready:
                record = pending.pop(ref)
                with contextlib.suppress(Exception):
                    outcome = ray.get(ref)
                    record.end(outcome["state"], outcome["exit_code"])
                    record.note = "stopped"
        for ref, record in pending.items():  # cancelled before it started, or not back in time
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
            status = read_status(record.spec.run_dir) or {}
            if status.get("state") == RUNNING and status.get("pid") and status.get("attempt", 0) > record.attempt - 1:
                kill_session(int(status["pid"]))
                end_attempt(record.spec, INTERRUPTED, -signal.SIGKILL)
                append_log(record.spec, "killed by the launcher")
                record.note = "killed"
        for record in in_flight.values():
            if record.state not in (DONE, FAILED, INTERRUPTED):
                if record.started is None:
                    record.state = PENDING  # never started
                    continue
                record.end(INTERRUPTED, record.exit_code)
            reporter.event(record)
