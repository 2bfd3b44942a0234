"""The ``processes`` backend: the runs as local processes, at most ``max_parallel`` at a time.

Each run starts in a session (and process group) of its own, with its stdout and stderr appended to its log. With
enough cores (at least one per parallel run) each running run gets cores of its own (``taskset``, or
``sched_setaffinity`` where there is no ``taskset``); with ``num_gpus`` and ``experiments_per_gpu`` it gets a GPU
(``CUDA_VISIBLE_DEVICES``) that has fewer than ``experiments_per_gpu`` runs on it.

Ctrl-C (or SIGTERM) on the launcher sends SIGINT to each running run's process group (sf saves a checkpoint and
exits), waits up to ``stop_timeout`` seconds, then kills what is left of each run's session with SIGKILL; a second
Ctrl-C kills at once. A run's processes that outlive it are killed when it ends, so nothing is left behind.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sf_runtime.launcher.report import SweepReporter
from sf_runtime.launcher.run_description import RunSpec
from sf_runtime.launcher.state import (
    DONE,
    FAILED,
    INTERRUPTED,
    PENDING,
    STOPPING,
    RunRecord,
    StopRequest,
    append_log,
    begin_attempt,
    end_attempt,
    open_log,
    write_status,
)

POLL_S = 0.1
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Run before a command whose launcher blocks or ignores SIGINT/SIGTERM (a Ray worker blocks SIGINT, a shell's
# background job ignores it): both are inherited across exec, and the run would never see the launcher's SIGINT.
_DEFAULT_SIGNALS_SHIM = (
    "import os, signal, sys\n"
    "for s in (signal.SIGINT, signal.SIGTERM):\n"
    "    signal.signal(s, signal.SIG_DFL)\n"
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})\n"
    "try:\n"
    "    os.execvp(sys.argv[1], sys.argv[1:])\n"
    "except OSError as exc:\n"
    "    print(f'cannot start {sys.argv[1]}: {exc.strerror or exc}', file=sys.stderr)\n"
    "    os._exit(127)\n"
)


def session_members(sid: int) -> list[int]:
    """The live (not zombie) processes of session ``sid`` (Linux ``/proc``; [] elsewhere)."""
    members = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return members
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 3 and fields[0] not in ("Z", "X") and int(fields[3]) == sid:
            members.append(int(entry))
    return members


def signal_group(pid: int, sig: int) -> None:
    """Sends sig to the process group of a run (its pid is the group's id); a gone group is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def kill_session(sid: int) -> int:
    """SIGKILLs the process group ``sid`` and every other live process of session ``sid``; returns how many of the
    session's processes there were."""
    signal_group(sid, signal.SIGKILL)
    members = session_members(sid)
    for pid in members:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return len(members)


def stop_signals_reach_children() -> bool:
    """Whether a process started from this thread gets SIGINT and SIGTERM: neither is blocked here nor ignored."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return not any(s in blocked or signal.getsignal(s) == signal.SIG_IGN for s in _STOP_SIGNALS)


def run_environment(spec: RunSpec, gpu: str | None = None) -> dict[str, str]:
    """The environment of a run: the launcher's, the experiment's ``env_vars``, unbuffered Python output, and
    ``CUDA_VISIBLE_DEVICES`` when a GPU (or, with ``""``, none) is assigned."""
    env = dict(os.environ)
    env.update(spec.env_vars)
    env.setdefault("PYTHONUNBUFFERED", "1")
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    return env


def _default_sigint() -> None:
    """In the child before exec: SIGINT back to its default. The sweep stops a run with SIGINT, and a sweep started in
    the background (``cmd &``) has SIGINT ignored, which exec would pass on (the run would only die by SIGKILL)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_run(
    spec: RunSpec,
    env: dict[str, str],
    cwd: Path | None = None,
    cores: Sequence[int] | None = None,
    **status_extra,
) -> tuple[subprocess.Popen | None, int, str]:
    """Starts an attempt of a run: status ``running``, a header in its log, the process in a new session.

    Returns:
        ``(process, attempt, error)``: process is None (and error says why) when the command could not be started.
    """
    argv = list(spec.argv)
    if not stop_signals_reach_children():
        argv = [sys.executable, "-c", _DEFAULT_SIGNALS_SHIM, *argv]
    taskset = shutil.which("taskset") if cores else None
    if cores and taskset:
        argv = [taskset, "-c", ",".join(map(str, cores)), *argv]
    status = begin_attempt(spec, cores=list(cores) if cores else None, **status_extra)
    attempt = status["attempt"]
    log = open_log(spec, attempt, spec.cmd)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )
    except OSError as exc:
        error = f"cannot start {spec.argv[0]}: {exc.strerror or exc}"
        log.write(f"=== sweep: {error}\n".encode())
        return None, attempt, error
    finally:
        log.close()  # the child has its own copy of the descriptor
    if cores and not taskset:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(proc.pid, set(cores))
    with contextlib.suppress(OSError):
        write_status(spec.run_dir, pid=proc.pid)
    return proc, attempt, ""


def stop_processes(procs: dict[int, subprocess.Popen], timeout: float, stop: StopRequest | None = None) -> set[int]:
    """Stops runs: SIGINT to each one's process group, up to ``timeout`` seconds for them to exit, then SIGKILL to
    what is left of each one's session. A second stop request (or a KeyboardInterrupt) while waiting kills at once.

    Args:
        procs: the runs' processes by pid (each the leader of its session).
        timeout: seconds to wait after SIGINT.
        stop: the launcher's stop requests.

    Returns:
        The pids that had to be killed.
    """
    for pid in procs:
        signal_group(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    killed: set[int] = set()
    try:
        while (
            time.monotonic() < deadline and not (stop and stop.urgent) and any(p.poll() is None for p in procs.values())
        ):
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        pass
    for pid, proc in procs.items():
        if proc.poll() is None:
            killed.add(pid)
        kill_session(pid)
    for proc in procs.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    return killed


def core_slots(cores: Sequence[int], parallel: int) -> list[tuple[int, ...]] | None:
    """Disjoint, equal sets of cores for ``parallel`` runs, or None when there are fewer cores than runs."""
    cores = sorted(cores)
    if parallel < 1 or len(cores) < parallel:
        return None
    per_run = len(cores) // parallel
    return [tuple(cores[i * per_run : (i + 1) * per_run]) for i in range(parallel)]


class ProcessesBackend:
    """Runs a sweep's runs as local processes.

    Args:
        max_parallel: at most this many runs at a time.
        pause_between: seconds between two starts.
        num_gpus: GPUs to spread runs over (``0``: the runs see no GPU).
        experiments_per_gpu: at most this many runs per GPU at a time; ``<= 0`` assigns no GPU (each run sees the
            launcher's).
        pin_cores: give each run cores of its own when there are at least ``max_parallel`` cores.
        stop_timeout: seconds a run has to exit after SIGINT before it is killed.
        cwd: the runs' working directory (default: the launcher's).
    """

    name = "processes"

    def __init__(
        self,
        max_parallel: int = 4,
        pause_between: float = 1.0,
        num_gpus: int = 1,
        experiments_per_gpu: int = -1,
        pin_cores: bool = True,
        stop_timeout: float = 10.0,
        cwd: Path | None = None,
    ) -> None:
        if max_parallel < 1:
            raise ValueError(f"max_parallel must be >= 1, got {max_parallel}")
        self.max_parallel = max_parallel
        self.pause_between = max(0.0, pause_between)
        self.num_gpus = num_gpus
        self.experiments_per_gpu = experiments_per_gpu
        self.pin_cores = pin_cores
        self.stop_timeout = stop_timeout
        self.cwd = cwd

    def describe(self) -> str:
        return f"processes, max_parallel {self.max_parallel}"

    def _pick_gpu(self, gpu_load: collections.Counter) -> str | bool | None:
        """The GPU for the next run: its id, None (no assignment), "" (none), or False (all GPUs are full)."""
        if self.num_gpus <= 0:
            return ""
        if self.experiments_per_gpu <= 0:
            return None
        gpu = min(range(self.num_gpus), key=lambda g: (gpu_load[str(g)], g))
        return str(gpu) if gpu_load[str(gpu)] < self.experiments_per_gpu else False

    def execute(self, records: Sequence[RunRecord], reporter: SweepReporter, stop: StopRequest) -> None:
        """Runs the pending records; returns when all have ended, or after stopping them once ``stop`` is requested
        (a KeyboardInterrupt counts as a request)."""
        todo = collections.deque(r for r in records if r.state == PENDING)
        parallel = min(self.max_parallel, len(todo))
        slots = core_slots(sorted(os.sched_getaffinity(0)), parallel) if self.pin_cores and parallel else None
        free_slots = list(range(parallel))
        running: dict[int, tuple[RunRecord, subprocess.Popen]] = {}  # by slot
        gpu_load: collections.Counter = collections.Counter()
        last_start = -float("inf")
        try:
            while (todo or running) and not stop.requested:
                for slot, (record, proc) in list(running.items()):
                    code = proc.poll()
                    if code is None:
                        continue
                    del running[slot]
                    free_slots.append(slot)
                    if record.gpu:
                        gpu_load[record.gpu] -= 1
                    self._finished(record, code, reporter)
                while (
                    todo and free_slots and not stop.requested and time.monotonic() - last_start >= self.pause_between
                ):
                    gpu = self._pick_gpu(gpu_load)
                    if gpu is False:
                        break
                    record = todo.popleft()
                    slot = free_slots.pop(0)
                    record.cores = slots[slot] if slots else None
                    record.gpu = gpu
                    proc, attempt, error = start_run(
                        record.spec, run_environment(record.spec, gpu), self.cwd, record.cores, gpu=gpu
                    )
                    record.attempt = attempt
                    last_start = time.monotonic()
                    if proc is None:
                        record.start(None)
                        record.note = error
                        record.end(FAILED, 127)
                        end_attempt(record.spec, FAILED, 127)
                        free_slots.append(slot)
                        reporter.event(record)
                        continue
                    record.start(proc.pid)
                    if gpu:
                        gpu_load[gpu] += 1
                    running[slot] = (record, proc)
                    reporter.event(record)
                reporter.tick()
                if todo or running:
                    time.sleep(POLL_S)
        except KeyboardInterrupt:
            stop()
        if stop.requested:
            self._stop(list(running.values()), reporter, stop)

    def _finished(self, record: RunRecord, code: int, reporter: SweepReporter) -> None:
        leftovers = kill_session(record.pid) if record.pid else 0
        if leftovers:
            append_log(record.spec, f"killed {leftovers} process(es) of the run still alive after it ended")
        if code == 0:
            record.end(DONE, 0)
        else:
            if code < 0:
                record.note = f"killed by {signal.Signals(-code).name}" if -code in signal.valid_signals() else ""
            record.end(FAILED, code)
        end_attempt(record.spec, record.state, code)
        append_log(record.spec, f"exit code {code} after {record.elapsed:.1f}s")
        reporter.event(record)

    def _stop(
        self, running: list[tuple[RunRecord, subprocess.Popen]], reporter: SweepReporter, stop: StopRequest
    ) -> None:
        if not running:
            return
        reporter.line(
            f"interrupted: stopping {len(running)} run(s) (SIGINT, SIGKILL after {self.stop_timeout:g}s; "
            "Ctrl-C again to kill now)"
        )
        for record, _ in running:
            record.state = STOPPING
            reporter.event(record)
        killed = stop_processes({proc.pid: proc for _, proc in running}, self.stop_timeout, stop)
        for record, proc in running:
            code = proc.returncode
            if code == 0 and proc.pid not in killed:  # it had just finished
                record.end(DONE, 0)
                end_attempt(record.spec, DONE, 0)
                reporter.event(record)
                continue
            record.note = "killed" if proc.pid in killed else f"exit {code}"
            record.end(INTERRUPTED, code)
            end_attempt(record.spec, INTERRUPTED, code)
            append_log(record.spec, f"stopped by the launcher ({record.note})")
            reporter.event(record)
