"""What the launcher prints: a live table of the runs on a terminal, plain lines otherwise, and a closing summary.

On a TTY the table (run, state, elapsed, exit code) is redrawn in place about once a second. Elsewhere (a pipe, a
file, CI) each change of a run's state is one line, so the output reads as a log.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Sequence
from typing import TextIO

from sf_runtime.launcher.state import (
    DONE,
    FAILED,
    INTERRUPTED,
    RUNNING,
    SKIPPED,
    STOPPING,
    RunRecord,
    SweepResult,
    log_tail,
)

PREFIX = "[sweep]"


def format_seconds(seconds: float | None) -> str:
    """``12.3s``, ``4m05s``, ``1h02m``; ``-`` for None."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _where(record: RunRecord) -> str:
    parts = []
    if record.pid is not None:
        parts.append(f"pid {record.pid}")
    if record.cores:
        parts.append(f"cores {','.join(map(str, record.cores))}")
    if record.gpu is not None:
        parts.append(f"gpu {record.gpu or 'none'}")
    return f" ({', '.join(parts)})" if parts else ""


class SweepReporter:
    """Prints the progress of a sweep to ``stream``.

    Args:
        run_name: the sweep's name.
        records: the runs, in launch order (the reporter reads them; the backend changes them).
        stream: where to print (default ``sys.stdout``).
        live: redraw a table in place; default: whether ``stream`` is a TTY.
        refresh_s: how often :meth:`tick` redraws the live table.
    """

    def __init__(
        self,
        run_name: str,
        records: Sequence[RunRecord],
        stream: TextIO | None = None,
        live: bool | None = None,
        refresh_s: float = 1.0,
    ) -> None:
        self.run_name = run_name
        self.records = list(records)
        self.stream = stream if stream is not None else sys.stdout
        if live is None:
            isatty = getattr(self.stream, "isatty", None)
            live = bool(isatty and isatty())
        self.live = live
        self.refresh_s = refresh_s
        self._drawn_lines = 0
        self._last_draw = 0.0
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe must not stop the sweep
            pass

    def line(self, text: str) -> None:
        """A message of the launcher's own (printed above the live table)."""
        with self._lock:
            if self.live:
                self._erase()
                self._write(f"{PREFIX} {text}\n")
                self._draw()
            else:
                self._write(f"{PREFIX} {text}\n")

    def event(self, record: RunRecord) -> None:
        """A run changed state: a line (plain mode) or a redraw (live mode)."""
        state, name = record.state, record.name
        if state == RUNNING:
            text = f"started  {name}{_where(record)}"
        elif state == DONE:
            text = f"finished {name}: exit 0 after {format_seconds(record.elapsed)}"
        elif state == FAILED:
            text = (
                f"FAILED   {name}: exit {record.exit_code} after {format_seconds(record.elapsed)}"
                f"{'; ' + record.note if record.note else ''}; log: {record.log_path}"
            )
        elif state == SKIPPED:
            text = f"skipped  {name}: finished earlier (exit 0)"
        elif state == STOPPING:
            text = f"stopping {name}"
        elif state == INTERRUPTED:
            text = f"stopped  {name} after {format_seconds(record.elapsed)}{'; ' + record.note if record.note else ''}"
        else:
            text = f"{state:8s} {name}"
        if self.live:
            with self._lock:
                if state in (FAILED, INTERRUPTED):  # worth keeping in the scrollback
                    self._erase()
                    self._write(f"{PREFIX} {text}\n")
                self._redraw()
        else:
            self.line(text)

    def tick(self) -> None:
        """Redraws the live table if ``refresh_s`` has passed (nothing in plain mode)."""
        if self.live and time.monotonic() - self._last_draw >= self.refresh_s:
            with self._lock:
                self._redraw()

    def table(self) -> list[str]:
        """The table's lines: a header, then one row per run."""
        width = max([len("run"), *(len(r.name) for r in self.records)])
        width = min(width, max(20, shutil.get_terminal_size((120, 24)).columns - 34))
        rows = [f"{'run':<{width}}  {'state':<11}  {'elapsed':>8}  {'exit':>4}"]
        for r in self.records:
            name = r.name if len(r.name) <= width else r.name[: width - 1] + "~"
            exit_code = "-" if r.exit_code is None else str(r.exit_code)
            rows.append(f"{name:<{width}}  {r.state:<11}  {format_seconds(r.elapsed):>8}  {exit_code:>4}")
        return rows

    def _visible_table(self) -> list[str]:
        rows = self.table()
        height = shutil.get_terminal_size((120, 24)).lines - 2
        if len(rows) > height > 3:  # keep the running runs in view; count the rest
            running = [i + 1 for i, r in enumerate(self.records) if r.state in (RUNNING, STOPPING)]
            keep = [0, *running[: height - 2]]
            hidden = len(rows) - len(keep)
            rows = [rows[i] for i in keep] + [f"... and {hidden} more runs"]
        return rows

    def _erase(self) -> None:
        if self._drawn_lines:
            self._write(f"\x1b[{self._drawn_lines}F\x1b[J")
            self._drawn_lines = 0

    def _draw(self) -> None:
        rows = self._visible_table()
        self._write("\n".join(rows) + "\n")
        self._drawn_lines = len(rows)
        self._last_draw = time.monotonic()

    def _redraw(self) -> None:
        self._erase()
        self._draw()

    def summary(self, result: SweepResult) -> None:
        """The closing lines: the final table (live mode), counts, and each failed run with the tail of its log."""
        with self._lock:
            if self.live:
                self._redraw()
                self._drawn_lines = 0  # the final table stays
            out = [
                f"{PREFIX} {result.run_name}: {len(result.done)} finished, {len(result.failed)} failed, "
                f"{len(result.unfinished)} not finished, {len(result.skipped)} skipped (finished earlier) in "
                f"{format_seconds(result.seconds)}"
            ]
            for record in result.failed:
                out.append(f"{PREFIX} FAILED {record.name} (exit {record.exit_code}); log {record.log_path}:")
                out += [f"    | {line}" for line in log_tail(record.log_path)]
            if result.failed or result.unfinished:
                out.append(
                    f"{PREFIX} run the same sweep again to run the failed and unfinished runs; finished ones are "
                    "skipped"
                )
            self._write("\n".join(out) + "\n")
