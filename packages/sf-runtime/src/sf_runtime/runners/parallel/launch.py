"""Starting the children of a parallel run from a fork server, and stopping the helper processes the run started.

The children come from a ``forkserver`` context whose server imported torch and the process modules once, so that
each child starts in milliseconds. multiprocessing's own helpers (the fork server and the resource tracker) are
processes too: a run stops those it started, and leaves those that ran before it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import signal
from typing import Any

from sf_runtime.runners.parallel.context import RunContext
from sf_runtime.runners.parallel.heartbeat import Component
from sf_runtime.runners.parallel.inference_worker import inference_worker_main
from sf_runtime.runners.parallel.learner_worker import learner_main
from sf_runtime.runners.parallel.remote_learner import RemoteLearner
from sf_runtime.runners.parallel.rollout_worker import rollout_worker_main
from sf_runtime.runners.parallel.shared_memory import SegmentFds

log = logging.getLogger(__name__)

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
"""Modules the fork server imports once, before it forks any child."""


def fork_server() -> Any:
    """The multiprocessing context the children of a run come from (a fork server with :data:`PRELOAD`).

    The server is started at once: it imports :data:`PRELOAD` while the caller goes on (the env probe and the
    children wait for it when they start). Call it with the stop signals blocked
    (:func:`~sf_runtime.runners.parallel.process_setup.stop_signals_blocked`), so that the server inherits them
    blocked. A fork server already running in this process (``sf-cli train`` starts one before it imports torch)
    is used as it is.
    """
    mp_ctx = mp.get_context("forkserver")
    mp_ctx.set_forkserver_preload(PRELOAD)
    multiprocessing.forkserver.ensure_running()
    return mp_ctx


def start_child(
    mp_ctx: Any,
    ctx: RunContext,
    comp: Component,
    learner: RemoteLearner | None = None,
    segments: SegmentFds | None = None,
) -> Any:
    """Start the process of one component (``learner`` is its stand-in when it is a learner) and return it.

    A rollout worker started in place of a dead one gets ``segments``: the descriptors of the shared segments that
    were unlinked since.
    """
    if comp.role == "learner":
        assert learner is not None
        recv_end, send_end = mp_ctx.Pipe(duplex=False)
        target, args = learner_main, (ctx, comp.index, learner.initial_state, send_end)
    elif comp.role == "inference_worker":
        per_policy = ctx.cfg.policy_workers_per_policy
        target, args = inference_worker_main, (ctx, comp.index // per_policy, comp.index % per_policy)
    else:
        target, args = rollout_worker_main, (ctx, comp.index) if segments is None else (ctx, comp.index, segments)
    proc = mp_ctx.Process(target=target, args=args, name=comp.label, daemon=True)
    if learner is not None:
        learner.queue, learner.conn, learner.process = ctx.learner_queues[comp.index], recv_end, proc
    proc.start()
    return proc


def sigkill(pid: int) -> None:
    """SIGKILL a process, if it still exists."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _helpers() -> tuple[Any, Any]:
    return (
        getattr(multiprocessing.forkserver, "_forkserver", None),
        getattr(multiprocessing.resource_tracker, "_resource_tracker", None),
    )


def _helper_pids() -> tuple[int | None, int | None]:
    server, tracker = _helpers()
    return getattr(server, "_forkserver_pid", None), getattr(tracker, "_pid", None)


def helpers_running() -> tuple[bool, bool]:
    """Whether the fork server and the resource tracker of this interpreter run already (then a run leaves them)."""
    server_pid, tracker_pid = _helper_pids()
    return server_pid is not None, tracker_pid is not None


def stop_helpers(running_before: tuple[bool, bool]) -> None:
    """Stop the fork server and resource tracker that the run started (:func:`helpers_running` before it)."""
    for was_running, helper in zip(running_before, _helpers(), strict=True):
        if was_running or helper is None or not hasattr(helper, "_stop"):
            continue
        try:
            helper._stop()
        except Exception:
            log.debug("could not stop a multiprocessing helper", exc_info=True)


def kill_helpers(running_before: tuple[bool, bool]) -> None:
    """SIGKILL the helpers that the run started, without waiting (for a second Ctrl-C)."""
    for was_running, pid in zip(running_before, _helper_pids(), strict=True):
        if not was_running and pid is not None:
            sigkill(pid)
