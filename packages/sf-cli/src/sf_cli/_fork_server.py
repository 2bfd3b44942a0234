"""The parallel runner's fork server, started by ``sf-cli train`` before it imports torch.

The fork server imports torch and the runner's process modules once for all the run's children. Started here, as
soon as the configuration is known, it does so while this process imports the runtime (torch too), on another core,
instead of after it; the runner then finds it running and uses it. The module names are the runtime's
``sf_runtime.runners.parallel.launch.PRELOAD`` (a test keeps them equal): they are repeated here because importing
anything of sf_runtime imports torch, which is what this start must not wait for.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import signal

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
