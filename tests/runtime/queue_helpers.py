"""Readers killed while they wait on a faster-fifo queue, and writers that put to it (queue recovery tests)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np

from sf_runtime.runners.parallel.queue_recovery import _probe_reader_wait


def _wait_for_messages(queue):
    while True:
        queue.get_many(timeout=100.0)


def put_many(queue, done):
    """Put 20 messages, then set ``done`` (a writer process's target)."""
    for _ in range(20):
        queue.put(b"message")
    done.set()


def kill_a_waiting_reader(fork, queue, on_start=lambda pid: None):
    """Start a reader process, SIGKILL it once it sleeps in its wait on ``queue``, and reap it."""
    words = np.frombuffer(queue.queue_obj_buffer, dtype=np.uint32)
    refs = _probe_reader_wait().group_refs // 4
    refs_before = int(words[refs]) + int(words[refs + 1])
    reader = fork.Process(target=_wait_for_messages, args=(queue,), daemon=True)
    reader.start()
    on_start(reader.pid)
    deadline = time.monotonic() + 60
    while int(words[refs]) + int(words[refs + 1]) == refs_before and time.monotonic() < deadline:
        time.sleep(0.01)  # until it sleeps in the wait
    os.kill(reader.pid, signal.SIGKILL)
    reader.join(timeout=60)
