"""A bound on the wind-down of a parallel run after a failure or an interruption.

After a process of the run dies, the others can be left waiting on something it held: faster-fifo queues keep a
process-shared mutex, and a process killed while holding it leaves it locked for good, so whoever locks it next waits
in C code that neither a timeout nor a signal handler interrupts. Every wait of the wind-down has its own limit (a
short grace for the sampling processes, the remaining budget for the learners' last checkpoint, short joins), and this
watchdog is the limit of last resort: when the whole wind-down outlives its budget, it kills every process of the run,
removes the shared memory and ends the process with the run's status, from a thread of its own, whatever the main
thread is blocked in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class WindDownWatchdog:
    """Ends the process if the wind-down is not over within ``limit_sec`` of :meth:`start`.

    Args:
        limit_sec: the budget of the whole wind-down.
        kill_everything: what to do first (kill the children and helpers, remove the shared memory); must not wait.
    """

    def __init__(self, limit_sec: float, kill_everything: Callable[[], None]) -> None:
        self.limit_sec = limit_sec
        self._kill_everything = kill_everything
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = 0.0
        self._status = 1

    def start(self, status: int) -> None:
        """Starts the clock (once; a later call only keeps the first start). ``status``: the exit status if it fires."""
        if self._thread is not None:
            return
        self._status = status
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._watch, name="sf-wind-down-watchdog", daemon=True)
        self._thread.start()

    def remaining(self) -> float:
        """Seconds left of the budget (the whole limit before :meth:`start`)."""
        if self._thread is None:
            return self.limit_sec
        return max(0.0, self.limit_sec - (time.monotonic() - self._started_at))

    def stop(self) -> None:
        """The wind-down is over: the watchdog stands down."""
        self._done.set()

    def _watch(self) -> None:
        if self._done.wait(self.limit_sec):
            return
        log.error(
            "The wind-down did not end within %.0fs (a process of the run is blocked, e.g. on a queue lock that a "
            "killed process held, or the machine is overloaded): killing every process of the run and exiting "
            "with status %d",
            self.limit_sec,
            self._status,
        )
        try:
            self._kill_everything()
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):  # the process ends anyway
                    stream.flush()
            os._exit(self._status)
