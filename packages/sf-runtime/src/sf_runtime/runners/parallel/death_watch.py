"""A thread of the main process that repairs the queues a child leaves behind, the moment the child dies.

The main process itself waits on queues: it reads the stats queue, and it puts state requests to a learner's queue (and
PBT messages to learners and rollout workers). A child killed inside a queue call leaves that queue's lock held, and
one killed while it waited for messages leaves a reference in the queue's condition variable that a put may wait on
(:mod:`.queue_recovery`). The supervision loop repairs both once it sees the death, but the main thread cannot see
anything while it is blocked in such a call itself, and checking first narrows the window without closing it: the
child can die between the check and the call.

So the repair does not depend on the main thread. :class:`DeathWatcher` holds a pidfd of each child (readable as soon
as the child has exited, well before the fork server reports its exit code) and, from a thread of its own, releases
every queue lock the dead child held and forgets it as the reader of the queues only it read. A main thread blocked on
such a lock or wait goes on at once and then sees the death as usual. Where pidfds are not available (Linux before
5.3, other systems) nothing is watched and the run works as before.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sf_runtime.runners.parallel.queue_recovery import forget_dead_reader, release_orphaned_locks

log = logging.getLogger(__name__)


class DeathWatcher:
    """Repairs the run's queues from a thread of its own when a watched child dies.

    Args:
        all_queues: returns every queue of the run (a dead child may have held any of their locks).
    """

    def __init__(self, all_queues: Callable[[], Sequence[Any]]) -> None:
        self._all_queues = all_queues
        self._lock = threading.Lock()
        self._watched: dict[int, tuple[str, list[Any]]] = {}  # pidfd -> (label, queues only that child reads)
        self._wake_read, self._wake_write = os.pipe()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def watch(self, label: str, pid: int, own_queues: Sequence[Any] = ()) -> None:
        """Watch a child; ``own_queues`` are those it is the only reader of (forgotten as their reader at its death)."""
        if self._stopped or not hasattr(os, "pidfd_open"):
            return
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # gone already (the supervision loop handles that death), or no pidfd support
            return
        with self._lock:
            self._watched[pidfd] = (label, list(own_queues))
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sf-death-watch", daemon=True)
            self._thread.start()
        else:
            os.write(self._wake_write, b"w")  # poll the new pidfd too

    def stop(self) -> None:
        """Stop the thread and close every descriptor (repairs in progress finish first)."""
        if self._stopped:
            return
        self._stopped = True
        os.write(self._wake_write, b"s")
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        with self._lock:
            for pidfd in self._watched:
                os.close(pidfd)
            self._watched.clear()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def _run(self) -> None:
        while not self._stopped:
            poller = select.poll()
            poller.register(self._wake_read, select.POLLIN)
            with self._lock:
                for pidfd in self._watched:
                    poller.register(pidfd, select.POLLIN)
            for fd, _events in poller.poll():
                if fd == self._wake_read:
                    os.read(self._wake_read, 64)
                elif not self._stopped:
                    self._repair_after(fd)

    def _repair_after(self, pidfd: int) -> None:
        with self._lock:
            label, own_queues = self._watched.pop(pidfd)
            os.close(pidfd)
        try:
            repair_queues_of_dead(label, self._all_queues(), own_queues)
        except Exception:  # the supervision loop repairs again when it sees the death; never kill the run from here
            with contextlib.suppress(Exception):
                log.exception("Could not repair the queues of the dead %s", label)


def repair_queues_of_dead(label: str, all_queues: Sequence[Any], own_queues: Sequence[Any]) -> None:
    """Release the queue locks a dead child held, and forget it as the reader of the queues only it read."""
    if released := release_orphaned_locks(all_queues):
        log.warning("Released %d queue lock(s) that the dead %s held", released, label)
    for own in own_queues:
        forget_dead_reader(own)
