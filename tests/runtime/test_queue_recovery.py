"""A queue lock left held by a process killed inside a queue call is released; a half-written queue is emptied."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading

import faster_fifo
import numpy as np
import pytest

from sf_runtime.runners.parallel.queue_recovery import _probe_layout, lock_holder, release_orphaned_locks

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
