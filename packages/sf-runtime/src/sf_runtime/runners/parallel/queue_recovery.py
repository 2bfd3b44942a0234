"""Queue locks left held by a process that was killed inside a queue call, found and released.

faster-fifo guards each queue with a process-shared pthread mutex that is not robust: a rollout worker SIGKILLed
between lock and unlock (more likely the busier the machine, since a preempted holder keeps the lock for a whole time
slice) leaves it locked, and the learner, the inference workers and the other rollout workers then block on that queue
forever. Before the main process starts a replacement worker it looks at every queue of the run: glibc records the
holder's thread id in the mutex, and a mutex held by a thread that no longer exists is released (for a normal mutex
``pthread_mutex_unlock`` does not check the caller). If the dead process left the queue half-written (a message
partly copied, or its counters partly updated), the queue is emptied: its messages are lost, but nothing reads
garbage.

A reader killed while it waited (a rollout worker in ``get`` on its inbox) leaves a second trap: the queue still
counts it as a waiting reader, so each put signals the queue's condition variable, and glibc's condition variable
keeps the dead waiter's reference, which a signal may wait on for good (the inference worker or the learner answering
the dead worker then hangs in ``put``). Each inbox has exactly one reader, so once that reader is dead
:func:`forget_dead_reader` clears both: puts stop signalling, and a put already waiting is woken.

The layout of faster-fifo's queue object (six ``size_t`` counters, then the mutex attribute and the mutex) is checked
before it is used: :func:`_probe_layout` finds the counters on a queue of its own by a put and a get, and the mutex by
locking it; :func:`_probe_reader_wait` finds the waiting-reader count and the condition variable's references by
watching a thread of its own wait. Where either does not match, that recovery is off and the run works as before.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_SIZE_T = 8


@dataclass(frozen=True)
class _Layout:
    """Byte offsets inside faster-fifo's queue object."""

    head: int
    tail: int
    size: int
    num_elem: int
    mutex: int  # the pthread_mutex_t: int __lock at +0, int __owner (thread id) at +8


@dataclass(frozen=True)
class _ReaderWait:
    """Byte offsets of what a waiting reader adds to a queue object."""

    waiting: int  # faster-fifo's count of readers waiting for a message
    group_refs: int  # glibc's ``__g_refs[2]`` of the "not empty" condition variable


_REPAIR = threading.Lock()  # the main thread and the death watcher (death_watch.py) must not unlock a mutex twice

_FUTEX_WAKE = 1
_SYS_FUTEX = 202  # x86_64; the probe below is only trusted on it


@functools.cache
def _libc() -> Any:
    return ctypes.CDLL(None)


def _counters(queue: Any) -> np.ndarray:
    return np.frombuffer(queue.queue_obj_buffer, dtype=np.uint64, count=6)


@functools.cache
def _probe_layout() -> _Layout | None:
    """The queue object's layout, found on a scratch queue and checked; ``None`` where it is not as expected."""
    import faster_fifo

    probe = faster_fifo.Queue(max_size_bytes=1000)
    try:
        empty = _counters(probe).copy()
        probe.put(b"probe")
        put = _counters(probe).copy()
        probe.get()
        got = _counters(probe).copy()
        message = [i for i in range(6) if put[i] != empty[i] and put[i] == got[i]]  # tail: moved by put only
        head = [i for i in range(6) if put[i] == 0 and got[i] == put[message[0]]] if message else []
        size = [i for i in range(6) if put[i] == put[message[0]] and got[i] == 0] if message else []
        count = [i for i in range(6) if put[i] == 1 and got[i] == 0]
        if not (len(message) == len(head) == len(size) == len(count) == 1):
            return None
        layout = _Layout(head[0] * 8, message[0] * 8, size[0] * 8, count[0] * 8, mutex=7 * _SIZE_T)
        ints = np.frombuffer(probe.queue_obj_buffer, dtype=np.int32)
        address = ctypes.c_void_p(ctypes.addressof(probe.queue_obj_buffer) + layout.mutex)
        if _libc().pthread_mutex_lock(address) != 0:
            return None
        try:
            holder = int(ints[layout.mutex // 4 + 2])
            locked = int(ints[layout.mutex // 4])
        finally:
            _libc().pthread_mutex_unlock(address)
        if locked == 0 or holder != threading.get_native_id() or ints[layout.mutex // 4] != 0:
            return None
        return layout
    except Exception:  # any surprise in a foreign layout: no recovery, as before
        return None
    finally:
        probe.close()


def lock_holder(queue: Any) -> int | None:
    """The thread id holding the queue's lock, or ``None`` when it is free (or the layout is unknown)."""
    layout = _probe_layout()
    if layout is None:
        return None
    ints = np.frombuffer(queue.queue_obj_buffer, dtype=np.int32)
    if ints[layout.mutex // 4] == 0:
        return None
    return int(ints[layout.mutex // 4 + 2])


def _thread_alive(tid: int) -> bool:
    """Whether a thread exists and has not exited (a zombie is dead: its process ended but was not reaped yet)."""
    try:
        with open(f"/proc/{tid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        return True  # cannot tell: leave the lock alone


def _consistent(queue: Any, layout: _Layout) -> bool:
    """Whether the messages between head and tail parse into exactly ``num_elem`` whole messages."""
    fields = np.frombuffer(queue.queue_obj_buffer, dtype=np.uint64)
    capacity = int(fields[0])
    head, tail = int(fields[layout.head // 8]), int(fields[layout.tail // 8])
    remaining, expected = int(fields[layout.size // 8]), int(fields[layout.num_elem // 8])
    data = np.frombuffer(queue.shared_memory, dtype=np.uint8)
    position, count = head, 0
    while remaining > 0:
        if remaining < _SIZE_T:
            return False
        header = np.take(data, np.arange(position, position + _SIZE_T) % capacity).tobytes()
        length = _SIZE_T + int.from_bytes(header, "little")
        if length > remaining:
            return False
        position, remaining, count = (position + length) % capacity, remaining - length, count + 1
    return position == tail and count == expected


@functools.cache
def _probe_reader_wait() -> _ReaderWait | None:
    """Where a waiting reader is counted, found by watching a thread wait on a scratch queue; None if not as expected.

    glibc's condition variable (``__wseq``, ``__g1_start``, ``__g_refs[2]``, ``__g_size[2]``, ``__g1_orig_size``,
    ``__wrefs``, ``__g_signals[2]``) gains 2 in ``__wseq`` and in one ``__g_refs``, 8 in ``__wrefs``, for a waiter;
    faster-fifo's count of waiting readers, between its mutex and that condition variable, gains 1.
    """
    import faster_fifo

    layout = _probe_layout()
    if layout is None or os.uname().machine != "x86_64":
        return None
    probe = faster_fifo.Queue(max_size_bytes=1000)
    words = np.frombuffer(probe.queue_obj_buffer, dtype=np.uint32)
    before = words.astype(np.int64)
    waiter = threading.Thread(target=probe.get, kwargs={"timeout": 30.0}, daemon=True)
    waiter.start()
    try:
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            delta = words.astype(np.int64) - before
            refs = [i for i in range(4, len(delta) - 5) if delta[i] == 2 and delta[i - 4] == 2 and delta[i + 5] == 8]
            if refs:
                mutex_end = layout.mutex // 4 + 10  # pthread_mutex_t is 40 bytes
                counts = [i for i in range(mutex_end, refs[0] - 4) if delta[i] == 1]
                return _ReaderWait(counts[0] * 4, refs[0] * 4) if len(refs) == len(counts) == 1 else None
            time.sleep(0.01)
        return None
    except Exception:  # any surprise in a foreign layout: no recovery, as before
        return None
    finally:
        probe.put(b"wake")
        waiter.join(timeout=10.0)
        probe.close()


def forget_dead_reader(queue: Any) -> bool:
    """The only reader of ``queue`` is dead: stop counting it as a waiter, and wake a put waiting on its reference.

    Only for a queue whose one reader is known to be dead (a killed rollout worker's inbox); with a live reader
    waiting on it this would lose that reader's wake-ups.

    Returns:
        Whether the queue was repaired (False where the layout is not known).
    """
    offsets = _probe_reader_wait()
    if offsets is None:
        return False
    with _REPAIR:
        _forget_reader(queue, offsets)
    return True


def _forget_reader(queue: Any, offsets: _ReaderWait) -> None:
    words = np.frombuffer(queue.queue_obj_buffer, dtype=np.uint32)
    base = ctypes.addressof(queue.queue_obj_buffer)
    words[offsets.waiting // 4] = 0
    for group in (0, 1):
        words[offsets.group_refs // 4 + group] = 0
        address = ctypes.c_void_p(base + offsets.group_refs + 4 * group)
        _libc().syscall(_SYS_FUTEX, address, _FUTEX_WAKE, 2**31 - 1, None, None, 0)


def release_orphaned_locks(queues: Iterable[Any]) -> int:
    """Release every queue lock whose holder thread has exited; empty a queue it left half-written.

    Returns:
        How many locks were released.
    """
    layout = _probe_layout()
    if layout is None:
        return 0
    with _REPAIR:
        return sum(_release_if_orphaned(queue, layout) for queue in queues)


def _release_if_orphaned(queue: Any, layout: _Layout) -> bool:
    holder = lock_holder(queue)
    if holder is None or _thread_alive(holder):
        return False
    fields = np.frombuffer(queue.queue_obj_buffer, dtype=np.uint64)
    if not _consistent(queue, layout):
        log.warning("A queue left half-written by a killed process (thread %d): its messages are dropped", holder)
        for offset in (layout.head, layout.tail, layout.size, layout.num_elem):
            fields[offset // 8] = 0
    _libc().pthread_mutex_unlock(ctypes.c_void_p(ctypes.addressof(queue.queue_obj_buffer) + layout.mutex))
    return True
