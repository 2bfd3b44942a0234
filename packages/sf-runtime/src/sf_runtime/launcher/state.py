"""What a sweep keeps in each run's experiment directory, and the state of a run while the launcher follows it.

* ``sweep_log.txt``: the run's stdout and stderr, appended to by every attempt (a header line starts each one).
* ``sweep_status.json``: the last attempt's state (``running``, ``done``, ``failed``, ``interrupted``), exit code,
  times, pid and command. A run whose status says ``done`` with exit code 0 has finished: a re-run of the sweep skips
  it. Any other run (failed, interrupted, never started, or ``running`` because the launcher itself was killed) runs
  again, and sf resumes it from the checkpoint in its directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from sf_runtime.launcher.run_description import RunSpec
from sf_runtime.storage.atomic import atomic_write

LOG_FILE = "sweep_log.txt"
STATUS_FILE = "sweep_status.json"
TAIL_LINES = 20
ATTEMPT_HEADER = b"=== sweep: attempt "  # starts each attempt's part of a log

# States of a run in the launcher: the first four are final.
DONE, FAILED, INTERRUPTED, SKIPPED = "done", "failed", "interrupted", "skipped"
PENDING, QUEUED, RUNNING, STOPPING = "pending", "queued", "running", "stopping"
FINAL_STATES = (DONE, FAILED, INTERRUPTED, SKIPPED)


def read_status(run_dir: Path) -> dict[str, Any] | None:
    """The run's ``sweep_status.json``, or None when it has none (or an unreadable one)."""
    try:
        data = json.loads((Path(run_dir) / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_status(run_dir: Path, **fields: Any) -> dict[str, Any]:
    """Writes the run's status (atomically), keeping the fields of the previous one that are not given."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    status = {**(read_status(run_dir) or {}), **fields}
    payload = (json.dumps(status, indent=2, sort_keys=True) + "\n").encode()
    atomic_write(run_dir / STATUS_FILE, lambda f: f.write(payload))
    return status


def finished_earlier(run_dir: Path) -> bool:
    """Whether an earlier attempt finished the run: its status says ``done`` with exit code 0."""
    status = read_status(run_dir)
    return bool(status) and status.get("state") == DONE and status.get("exit_code") == 0


def begin_attempt(spec: RunSpec, pid: int | None = None, **extra: Any) -> dict[str, Any]:
    """Records that an attempt of the run starts now (state ``running``; attempt counts up)."""
    previous = read_status(spec.run_dir) or {}
    return write_status(
        spec.run_dir,
        name=spec.name,
        state=RUNNING,
        exit_code=None,
        attempt=int(previous.get("attempt", 0)) + 1,
        started_at=time.time(),
        finished_at=None,
        pid=pid,
        host=socket.gethostname(),
        cmd=list(spec.argv),
        **extra,
    )


def end_attempt(spec: RunSpec, state: str, exit_code: int | None) -> dict[str, Any]:
    """Records how the attempt ended."""
    return write_status(spec.run_dir, state=state, exit_code=exit_code, finished_at=time.time())


def open_log(spec: RunSpec, attempt: int, cmd: str):
    """The run's log, opened for appending (binary), with a header line for this attempt written."""
    spec.run_dir.mkdir(parents=True, exist_ok=True)
    log = open(spec.run_dir / LOG_FILE, "ab")  # noqa: SIM115 (the caller closes it when the run ends)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    log.write(ATTEMPT_HEADER + f"{attempt} of {spec.name} at {stamp}: {cmd}\n".encode())
    log.flush()
    return log


def append_log(spec: RunSpec, text: str) -> None:
    """Appends a line of the launcher's own to the run's log."""
    with contextlib.suppress(OSError), open(spec.run_dir / LOG_FILE, "ab") as log:
        log.write(f"=== sweep: {text}\n".encode())


def log_tail(path: Path, lines: int = TAIL_LINES, max_bytes: int = 64 * 1024) -> list[str]:
    """The last non-blank lines of the last attempt in a log (within its last ``max_bytes``), without line ends;
    [] when there is none."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return []
    header = data.rfind(ATTEMPT_HEADER)
    if header > 0:
        data = data[header:]
    text = data.decode("utf-8", errors="replace").replace("\r", "\n")
    return [line for line in text.splitlines() if line.strip()][-lines:]


@dataclasses.dataclass
class RunRecord:
    """A run as the launcher follows it (what the live table shows)."""

    spec: RunSpec
    state: str = PENDING
    exit_code: int | None = None
    started: float | None = None  # time.monotonic() of the start
    ended: float | None = None
    pid: int | None = None
    cores: tuple[int, ...] | None = None
    gpu: str | None = None
    attempt: int = 0
    note: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def log_path(self) -> Path:
        return self.spec.run_dir / LOG_FILE

    @property
    def elapsed(self) -> float | None:
        """Seconds since the start (until the end, once ended); None before it starts."""
        if self.started is None:
            return None
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    def start(self, pid: int | None) -> None:
        self.state, self.pid, self.started, self.ended, self.exit_code = RUNNING, pid, time.monotonic(), None, None

    def end(self, state: str, exit_code: int | None) -> None:
        self.state, self.exit_code, self.ended = state, exit_code, time.monotonic()


@dataclasses.dataclass
class SweepResult:
    """How a sweep went: each run's record, in launch order."""

    run_name: str
    records: list[RunRecord]
    interrupted: bool = False
    seconds: float = 0.0

    def _with(self, *states: str) -> list[RunRecord]:
        return [r for r in self.records if r.state in states]

    @property
    def done(self) -> list[RunRecord]:
        """Runs that finished in this sweep with exit code 0."""
        return self._with(DONE)

    @property
    def failed(self) -> list[RunRecord]:
        return self._with(FAILED)

    @property
    def skipped(self) -> list[RunRecord]:
        """Runs that an earlier sweep finished."""
        return self._with(SKIPPED)

    @property
    def unfinished(self) -> list[RunRecord]:
        """Runs stopped by an interrupt, or never started because of it."""
        return [r for r in self.records if r.state not in (DONE, FAILED, SKIPPED)]

    @property
    def exit_code(self) -> int:
        """0 when every run has finished (now or earlier), 2 when interrupted, 1 when a run failed."""
        if self.interrupted:
            return 2
        return 1 if self.failed or self.unfinished else 0


class StopRequest:
    """Counts the stop signals (Ctrl-C, SIGTERM) the launcher got: one stops the runs gently, two kill them now.

    Installed as the signal handler, it lets the backend finish its bookkeeping of a start or an end before it reacts
    (a KeyboardInterrupt raised anywhere could lose a just-started process).
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, signum: int | None = None, frame: Any = None) -> None:
        self.count += 1

    @property
    def requested(self) -> bool:
        return self.count > 0

    @property
    def urgent(self) -> bool:
        """A second request: kill without waiting."""
        return self.count > 1
