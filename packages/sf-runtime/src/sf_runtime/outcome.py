"""How a training run ends: its status code, Ctrl-C and SIGTERM, and :func:`run_guarded` that maps one to the other.

A run returns :data:`STATUS_SUCCESS` (0), :data:`STATUS_FAILURE` (1) or :data:`STATUS_INTERRUPTED` (2, after Ctrl-C
or SIGTERM, once a checkpoint is saved); evaluation returns the same codes. SIGTERM is turned into a
``KeyboardInterrupt`` so that both signals unwind the same way, and a second signal during the wind-down ends the
process at once.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable

from sf_runtime.errors import SetupError

log = logging.getLogger(__name__)

STATUS_SUCCESS = 0
STATUS_FAILURE = 1
STATUS_INTERRUPTED = 2


class ExperimentStatus(enum.IntEnum):
    """The status codes of a run (what :func:`~sf_runtime.run_rl` returns and a training script exits with).

    Members are ints, so ``run_rl(cfg) == ExperimentStatus.SUCCESS`` and ``sys.exit(status)`` work.
    """

    SUCCESS = STATUS_SUCCESS
    """The run finished: a stop condition was reached and the final checkpoint saved."""
    FAILURE = STATUS_FAILURE
    """The run failed; the log says why."""
    INTERRUPTED = STATUS_INTERRUPTED
    """Ctrl-C or SIGTERM stopped the run, after a checkpoint."""


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM, so that it unwinds like Ctrl-C."""


@contextlib.contextmanager
def sigterm_as_interrupt():
    """While active, SIGTERM raises :class:`Interrupted` in the main thread (a no-op in other threads)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, _frame):
        raise Interrupted(f"received signal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def exit_at_once_on_signal(stop_at_once: Callable[[], None] | None = None):
    """While active (the wind-down of a run), SIGINT or SIGTERM ends the process at once with status 2.

    This is the "second Ctrl-C": the first one started the wind-down (a checkpoint, then stopping the processes),
    and a user who presses Ctrl-C again does not want to wait for it. ``stop_at_once`` runs first, to kill child
    processes by force and remove shared memory, so that nothing of the run is left behind; then the log handlers
    are flushed and the process exits with ``os._exit`` (no further cleanup can block it). A no-op outside the main
    thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _exit_now(signum, _frame):
        try:
            log.warning("Received %s while stopping: exiting at once", signal.Signals(signum).name)
            if stop_at_once is not None:
                stop_at_once()
        except BaseException:
            log.exception("Could not stop everything at once")
        finally:
            for handler in logging.getLogger().handlers:
                with contextlib.suppress(Exception):
                    handler.flush()
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(STATUS_INTERRUPTED)

    previous = {sig: signal.signal(sig, _exit_now) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_guarded(
    body: Callable[[], None],
    on_interrupt: Callable[[], None] | None = None,
    *,
    on_failure: Callable[[], None] | None = None,
    cleanup: Callable[[], None] | None = None,
    stop_at_once: Callable[[], None] | None = None,
) -> int:
    """Run a training body and turn its outcome into a status code.

    After ``body`` returned or raised, the wind-down (``on_interrupt`` or ``on_failure``, then ``cleanup``) runs
    under :func:`exit_at_once_on_signal`: a further Ctrl-C or SIGTERM calls ``stop_at_once`` and exits the process
    with status 2 immediately.

    Args:
        body: the run; returns normally on success.
        on_interrupt: called after Ctrl-C or SIGTERM (e.g. to save a checkpoint); its own errors are logged.
        on_failure: called after ``body`` raised (e.g. to save a checkpoint through the parts of the run that still
            work); its own errors are logged.
        cleanup: called last in every case (stop processes, release resources).
        stop_at_once: what a second signal does before the process exits (kill children, remove shared memory).

    Returns:
        0 on success, 1 when ``body`` raised, 2 when it was interrupted.
    """
    status = STATUS_SUCCESS
    wind_down: Callable[[], None] | None = None
    try:
        with sigterm_as_interrupt():
            body()
    except KeyboardInterrupt as exc:
        log.warning("Interrupted (%s): saving and stopping", str(exc) or exc.__class__.__name__)
        status, wind_down = STATUS_INTERRUPTED, on_interrupt
    except SetupError as exc:  # the message says what to change; a traceback would only hide it
        log.error("Training failed: %s", exc)
        status, wind_down = STATUS_FAILURE, on_failure
    except Exception:
        log.exception("Training failed")
        status, wind_down = STATUS_FAILURE, on_failure
    except BaseException:  # SystemExit and the like: still stop what the run started
        if cleanup is not None:
            with exit_at_once_on_signal(stop_at_once):
                cleanup()
        raise
    with exit_at_once_on_signal(stop_at_once):
        try:
            if wind_down is not None:
                try:
                    wind_down()
                except Exception:
                    what = "interruption" if status == STATUS_INTERRUPTED else "failure"
                    log.exception("Could not save after the %s", what)
        finally:
            if cleanup is not None:
                cleanup()
    return status
