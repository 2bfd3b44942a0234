"""A queue lock left held by a process killed inside a queue call is released; a half-written queue is emptied; a
reader killed while it waited is forgotten, so that puts to its queue do not hang."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from pathlib import Path

import faster_fifo
import numpy as np
import pytest

from sf_runtime.runners.parallel.queue_recovery import (
    _probe_layout,
    _probe_reader_wait,
    forget_dead_reader,
    lock_holder,
    release_orphaned_locks,
)

sys.path.insert(0, str(Path(__file__).parent))
from queue_helpers import kill_a_waiting_reader, put_many

pytestmark = pytest.mark.skipif(_probe_layout() is None, reason="faster-fifo's queue layout is not the known one")


def _die_holding_the_lock(queue, tamper):
    layout = _probe_layout()
    ctypes.CDLL(None).pthread_mutex_lock(ctypes.c_void_p(ctypes.addressof(queue.queue_obj_buffer) + layout.mutex))
    if tamper:  # a put killed after it moved the tail, before it counted the bytes
        fields = np.frombuffer(queue.queue_obj_buffer, dtype=np.uint64)
        fields[layout.tail // 8] += 20
    os.kill(os.getpid(), signal.SIGKILL)


def _killed_holder(queue, tamper=False):
    child = multiprocessing.get_context("fork").Process(target=_die_holding_the_lock, args=(queue, tamper))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == -signal.SIGKILL
    return child.pid


def _put_in_thread(queue):
    done = threading.Event()

    def put():
        queue.put("after", timeout=1.0)
        done.set()

    threading.Thread(target=put, daemon=True).start()
    return done


@pytest.mark.parametrize("tamper", [False, True], ids=["whole", "half-written"])
def test_a_lock_held_by_a_dead_process_is_released_and_the_queue_works(tamper):
    queue = faster_fifo.Queue(max_size_bytes=10_000)
    queue.put("before")
    pid = _killed_holder(queue, tamper)
    assert lock_holder(queue) == pid
    blocked = _put_in_thread(queue)
    assert not blocked.wait(timeout=2.0)  # the lock is held for good: a put cannot get in

    assert release_orphaned_locks([queue]) == 1
    assert blocked.wait(timeout=60)
    assert lock_holder(queue) is None
    expected = ["after"] if tamper else ["before", "after"]  # a half-written queue is emptied, then used again
    assert queue.get_many(timeout=5) == expected


def test_a_lock_of_a_live_holder_or_a_free_lock_is_left_alone():
    free = faster_fifo.Queue(max_size_bytes=10_000)
    held = faster_fifo.Queue(max_size_bytes=10_000)
    layout = _probe_layout()
    address = ctypes.c_void_p(ctypes.addressof(held.queue_obj_buffer) + layout.mutex)
    ctypes.CDLL(None).pthread_mutex_lock(address)
    try:
        assert lock_holder(held) == threading.get_native_id()
        assert release_orphaned_locks([free, held]) == 0
        assert lock_holder(held) == threading.get_native_id()
    finally:
        ctypes.CDLL(None).pthread_mutex_unlock(address)
    held.put(1)
    assert held.get(timeout=5) == 1


@pytest.mark.skipif(_probe_reader_wait() is None, reason="the waiting reader's layout is not the known one")
def test_a_put_hung_on_a_reader_killed_while_it_waited_is_woken_by_forgetting_the_reader():
    fork = multiprocessing.get_context("fork")
    queue = faster_fifo.Queue(max_size_bytes=100_000)
    words = np.frombuffer(queue.queue_obj_buffer, dtype=np.uint32)
    waiting = _probe_reader_wait().waiting // 4
    writers, done = [], fork.Event()
    for _ in range(3):  # with glibc 2.36 the second killed reader is enough for a put to hang for good
        kill_a_waiting_reader(fork, queue)
        writers.append(fork.Process(target=put_many, args=(queue, done)))
        writers[-1].start()
        if not done.wait(timeout=3.0):
            break
        done.clear()
        queue.get_many(max_messages_to_get=100, timeout=5)
    else:
        pytest.skip("puts after killed readers did not hang with this glibc")
    try:
        assert forget_dead_reader(queue)
        assert done.wait(timeout=60)  # the hung put went through, and so did the next ones
        assert words[waiting] == 0
        assert len(queue.get_many(max_messages_to_get=100, timeout=5)) == 20
    finally:
        for writer in writers:
            writer.kill()
            writer.join(timeout=60)
