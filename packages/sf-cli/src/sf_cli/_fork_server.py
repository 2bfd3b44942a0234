"""The parallel runner's fork server, started by ``sf-cli train`` before anything else is imported.

The fork server imports torch and the runner's process modules once for all the run's children (about 3.5 s of CPU).
Started by :func:`start_early` as the first thing ``sf-cli train`` does, it does so while this process imports
click, sf-config, gymnasium and torch on the other core, instead of after them; the runner then finds it running and
uses it. Whether the run needs it is only known once the configuration is resolved: the train command then stops it
for a serial or a distributed run, and :func:`stop_fork_server` stops it when sf-cli exits, whatever happened (bad
input, an error, the end of the run). The module names are the runtime's ``sf_runtime.runners.parallel.launch.PRELOAD``
(a test keeps them equal): they are repeated here because importing anything of sf_runtime imports torch, which is
what this start must not wait for.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import signal
from collections.abc import Sequence

PRELOAD = [
    "numpy",
    "torch",
    "gymnasium",
    "faster_fifo",
    "cv2",  # each child sets its threads (process_setup.limit_threads); skipped by the server when not installed
    "sf_runtime.envs",
    "sf_runtime.model",
    "sf_runtime.learning",
    "sf_runtime.runners.parallel.rollout_worker",
    "sf_runtime.runners.parallel.inference_worker",
    "sf_runtime.runners.parallel.learner_worker",
]


def start_fork_server() -> bool:
    """Start multiprocessing's fork server with :data:`PRELOAD` now, without waiting for it; False where there is none.

    SIGINT and SIGTERM are blocked while it starts, so that the server inherits them blocked and survives a Ctrl-C
    to the process group (the runner decides how the run ends). The resource tracker is started before the block:
    its start unblocks both signals whatever the mask was (CPython), and the fork server would start after it.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    multiprocessing.resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    return True


def start_early(args: Sequence[str]) -> bool:
    """Start the fork server for ``sf-cli train`` from its raw arguments, before they are parsed; True when started.

    Nothing is started for another command, for ``--help``, or when the command line sets ``serial_mode`` or
    ``distributed`` (a run that may not need it; the train command starts it once the configuration says so).
    """
    if not args or args[0] != "train":
        return False
    if any(a in ("-h", "--help") or a.startswith(("--serial_mode", "--serial-mode", "--distributed")) for a in args):
        return False
    return start_fork_server()


def stop_fork_server() -> None:
    """Stop the fork server this process started, if it still runs; at once, even in the middle of its imports.

    Its children are the run's, which the runner has stopped by then; nothing of the server is worth waiting for.
    """
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if pid is None or not hasattr(server, "_stop"):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):  # ChildProcessError is one
        server._stop()  # closes its pipe and socket and reaps it
