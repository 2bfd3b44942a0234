"""What every child process of the parallel runner does first: signals, threads, niceness, CPU affinity, registrations.

Children ignore SIGINT and SIGTERM: Ctrl-C reaches the whole process group, and so does the SIGTERM of ``kill -TERM
-<pgid>`` or a container stop, but the main process alone decides how the run ends (it asks the learners for a last
checkpoint before stopping them, and SIGKILLs what does not exit). A child is never orphaned for long: it watches
the main process and leaves its loop once the main process is gone.

The fork server the children are forked from must survive such a signal too (when it dies, multiprocessing takes
every child for dead): :func:`stop_signals_blocked` keeps SIGINT and SIGTERM blocked while the processes start, so
the fork server inherits them blocked, and each child ignores and then unblocks them.

SIGUSR1 makes a child print the Python stack of each of its threads to stderr (``faulthandler``): the main process
sends it to a child that stopped reporting before killing it, so that the log says where it was stuck.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import multiprocessing.resource_tracker
import os
import signal
import sys
from typing import Any

from sf_runtime.registrations import Registrations

log = logging.getLogger(__name__)

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
STACK_DUMP_SIGNAL = signal.SIGUSR1  # a child prints its threads' stacks to stderr
_THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def limit_threads() -> None:
    """One thread for torch and for the numeric libraries envs commonly use (no oversubscription of the cores)."""
    for var in _THREAD_ENV_VARS:
        os.environ[var] = "1"
    import torch

    torch.set_num_threads(1)
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass


def _ignore_signal(signum: int, frame: Any) -> None:
    """The children's handler of SIGINT and SIGTERM: the main process decides when they stop."""


def setup_child_process(
    *,
    niceness: int = 0,
    cpu: int | None = None,
    single_thread: bool = True,
    registrations: Registrations | None = None,
    log_level: int = logging.INFO,
) -> None:
    """Prepare a freshly started child process.

    Args:
        niceness: added to the process's nice value (``default_niceness``); 0 leaves it.
        cpu: pin the process to this core (``set_workers_cpu_affinity``); None leaves the affinity.
        single_thread: limit torch and numeric libraries to one thread.
        registrations: the main process's registered envs and model factories, restored here.
        log_level: logging level of the child.
    """
    for sig in _STOP_SIGNALS:
        # A handler that does nothing rather than SIG_IGN: an ignored signal stays ignored across exec, so a
        # simulator that an env starts as a program of its own could then not be stopped with SIGTERM.
        signal.signal(sig, _ignore_signal)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # blocked in the fork server (see the module doc)
    faulthandler.register(STACK_DUMP_SIGNAL, file=sys.stderr, all_threads=True)
    logging.basicConfig(level=log_level, format="[%(asctime)s][%(process)d] %(message)s")
    if single_thread:
        limit_threads()
    if niceness:
        try:
            os.nice(niceness)
        except OSError as exc:  # a negative niceness needs privileges
            log.warning("Could not change niceness by %d: %s", niceness, exc)
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        available = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {available[cpu % len(available)]})
    if registrations is not None:
        registrations.restore()


@contextlib.contextmanager
def stop_signals_blocked():
    """Block SIGINT and SIGTERM in the calling thread while child processes (and their fork server) start.

    Processes started meanwhile inherit the blocked signals, so a signal to the whole process group cannot kill
    them; a signal sent to this process meanwhile is delivered when the block ends (none is lost).

    multiprocessing's resource tracker is started first: its start unblocks SIGINT and SIGTERM whatever the mask was
    (CPython's ``resource_tracker.ensure_running``), so a fork server started after it inside the block would
    inherit them unblocked and die of a SIGTERM to the process group, taking every child for dead.
    """
    multiprocessing.resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
