"""The death watcher repairs a queue the moment the child that broke it dies, while the main thread is blocked on it:
nothing else has to notice the death first."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path

import faster_fifo
import pytest

from sf_runtime.runners.parallel.death_watch import DeathWatcher
from sf_runtime.runners.parallel.queue_recovery import _probe_layout, _probe_reader_wait, lock_holder

sys.path.insert(0, str(Path(__file__).parent))
from queue_helpers import kill_a_waiting_reader, put_many

pytestmark = [
    pytest.mark.skipif(_probe_layout() is None, reason="faster-fifo's queue layout is not the known one"),
    pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="no pidfds on this system"),
]


def _hold_the_lock_until_killed(queue, locked):
    layout = _probe_layout()
    ctypes.CDLL(None).pthread_mutex_lock(ctypes.c_void_p(ctypes.addressof(queue.queue_obj_buffer) + layout.mutex))
    locked.set()
    while True:
        time.sleep(1.0)


def _in_thread(call):
    done = threading.Event()

    def run():
        call()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done


def test_a_get_blocked_on_the_lock_of_a_child_goes_on_when_the_child_is_killed():
    fork = multiprocessing.get_context("fork")
    queue = faster_fifo.Queue(max_size_bytes=10_000)
    queue.put("report")
    locked = fork.Event()
    child = fork.Process(target=_hold_the_lock_until_killed, args=(queue, locked), daemon=True)
    child.start()
    watcher = DeathWatcher(lambda: [queue])
    try:
        assert locked.wait(timeout=60)
        watcher.watch("holder", child.pid)
        got: list = []
        done = _in_thread(lambda: got.extend(queue.get_many(timeout=100.0)))
        assert not done.wait(timeout=1.0)  # the main thread's read waits on the child's lock
        os.kill(child.pid, signal.SIGKILL)  # not reaped: the child stays a zombie while the watcher repairs
        assert done.wait(timeout=60)
        assert got == ["report"]
        assert lock_holder(queue) is None
    finally:
        watcher.stop()
        child.kill()
        child.join(timeout=60)


@pytest.mark.skipif(_probe_reader_wait() is None, reason="the waiting reader's layout is not the known one")
def test_puts_to_the_queue_of_a_reader_killed_while_it_waited_do_not_hang():
    fork = multiprocessing.get_context("fork")
    queue = faster_fifo.Queue(max_size_bytes=100_000)
    watcher = DeathWatcher(lambda: [queue])
    writers, done = [], fork.Event()
    try:
        for _ in range(3):  # with glibc 2.36, puts hang for good after the second reader killed while it waited
            kill_a_waiting_reader(fork, queue, on_start=lambda pid: watcher.watch("reader", pid, own_queues=[queue]))
            writers.append(fork.Process(target=put_many, args=(queue, done), daemon=True))
            writers[-1].start()
            assert done.wait(timeout=60), "a put hung on a killed reader's wait"
            done.clear()
            assert len(queue.get_many(max_messages_to_get=100, timeout=5)) == 20
    finally:
        watcher.stop()
        for writer in writers:
            writer.kill()
            writer.join(timeout=60)


def test_a_stopped_watcher_closes_its_descriptors_and_watches_nothing():
    child = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,), daemon=True)
    child.start()
    before = len(os.listdir("/proc/self/fd"))
    watcher = DeathWatcher(list)
    try:
        watcher.watch("sleeper", child.pid)
        watcher.stop()
        watcher.watch("sleeper", child.pid)
        assert len(os.listdir("/proc/self/fd")) == before
    finally:
        child.kill()
        child.join(timeout=60)
