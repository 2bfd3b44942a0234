"""The parallel runner: rollout workers, inference workers and learners in their own processes.

The main process sets the run up and then only supervises:

1. probe the env (spaces, agents), build one actor-critic to learn the shapes of the policy outputs and of the
   weights, and allocate everything shared in ``/dev/shm`` (``sf_<run>_*``): trajectory slots, one weight slot per
   policy, heartbeats and control flags; make the faster-fifo queues (one inference queue and one learner queue per
   policy, one inbox per rollout worker, one stats queue);
2. start the children from a fork server that has torch preloaded: one learner per policy (restored from the latest
   checkpoint, it publishes version 0 or the resumed version), ``policy_workers_per_policy`` inference workers per
   policy, ``num_workers`` rollout workers; wait until each has reported once, then unlink the shared segments
   (the mappings stay alive, and nothing can leak from ``/dev/shm`` any more, even if the run is killed);
3. loop: read statistics, let the shared lifecycle report, write summaries and checkpoints (it asks learners for
   their state over a pipe), check exit codes and heartbeats, stop on ``train_for_env_steps`` /
   ``train_for_seconds``;
4. stop in order: sampling first, then a final checkpoint, then the learners; join, terminate what does not exit,
   and stop the fork server, so that no process of the run remains.

A rollout worker that dies of a signal (SIGKILL, the out-of-memory killer, a crash in native code) is replaced: the
new process maps the unlinked shared segments through file descriptors the main process kept, starts in the slots
the learners do not hold (:mod:`~sf_runtime.sampling.slot_ownership`), and the run goes on; at most
``MAX_WORKER_REPLACEMENTS`` times per worker index, after which the run stops with status 1. An inference worker or a
learner that dies stops the run (status 1, a checkpoint first when every learner still runs); the message names it.

Ctrl-C (SIGINT) and SIGTERM act through the main process only (children ignore both, also when the signal goes to
the whole process group as from a terminal or a container stop): it saves a checkpoint through the learners, shuts
everything down and returns 2. A second signal during that wind-down kills the children by force, removes the shared
memory and exits with 2 at once. When a component fails (a process died or went silent, an env raised more often
than ``max_env_failures`` allows) and the learners still run, a checkpoint is saved before the shutdown too, and the
status is 1.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing as mp
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import queue
import signal
import time
from collections.abc import Iterable
from typing import Any

import faster_fifo
import numpy as np
import torch

from sf_runtime.registrations import missing_main_guard_error, snapshot_registrations
from sf_runtime.runners.lifecycle import RunObserver, run_cfg, run_guarded
from sf_runtime.runners.parallel_learner import learner_main, state_from_bytes, state_to_bytes
from sf_runtime.runners.parallel_report import ParallelLifecycle
from sf_runtime.sampling.context import MSG_STATE_REQUEST, RunContext
from sf_runtime.sampling.heartbeat import STOP_ALL, STOP_SAMPLING, Component, RunState
from sf_runtime.sampling.inference_worker import inference_worker_main
from sf_runtime.sampling.process_setup import stop_signals_blocked
from sf_runtime.sampling.rollout_worker import rollout_worker_main
from sf_runtime.sampling.shared_memory import SharedArena
from sf_runtime.sampling.shm_guard import check_shm_budget, sweep_stale_segments
from sf_runtime.sampling.slot_ownership import SlotOwnership
from sf_runtime.sampling.trajectories import StepFormat, TrajectoryLayout, allocate_trajectories
from sf_runtime.sampling.weights import WeightSlot
from sf_runtime.storage import check_checkpoint_space

log = logging.getLogger(__name__)

# Modules the fork server imports once, so that each child starts in milliseconds instead of importing torch.
_PRELOAD = [
    "numpy",
    "torch",
    "gymnasium",
    "faster_fifo",
    "sf_runtime.envs",
    "sf_runtime.model",
    "sf_runtime.learning",
    "sf_runtime.sampling.rollout_worker",
    "sf_runtime.sampling.inference_worker",
    "sf_runtime.runners.parallel_learner",
]
_QUEUE_BYTES = 4 * 1024 * 1024
_SPARE_INBOX_BYTES = 256 * 1024  # the inboxes of replacement workers (a few small messages at a time)
_STATE_TIMEOUT_SEC = 300.0
_JOIN_TIMEOUT_SEC = 20.0
MAX_WORKER_REPLACEMENTS = 3  # per rollout worker index, over the run
_NO_ERROR_TEXT = "it reported no error (killed by a signal, out of memory, or it failed while starting: see its output)"


class ComponentFailure(RuntimeError):
    """A process of the run died or stopped reporting; the message names it (role and index)."""


class EnvFailure(ComponentFailure):
    """An env raised in a rollout worker more often than ``max_env_failures`` allows; the message names the env."""


def how_it_ended(label: str, process: Any) -> str:
    """``"<label> (pid N) was killed by signal SIGKILL"`` or ``"... exited with code C"`` for an ended process."""
    code = process.exitcode
    if code is not None and code < 0:
        try:
            how = f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with code {code}"
    return f"{label} (pid {process.pid}) {how}"


class RemoteLearner:
    """The main process's stand-in for a learner living in another process (what the lifecycle checkpoints).

    Before the processes start it only collects the state to resume from; afterwards :meth:`checkpoint_state` asks
    the learner process for its current state.

    Args:
        policy_id: the policy.
    """

    def __init__(self, policy_id: int) -> None:
        self.policy_id = policy_id
        self.policy_version = 0
        self.initial_state: bytes | None = None
        self.queue: Any = None
        self.conn: Any = None
        self.process: Any = None

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        """Keep a checkpoint's learner state for the learner process to load when it starts."""
        if self.process is not None:
            raise RuntimeError("a running learner process cannot load a checkpoint")
        self.initial_state = state_to_bytes(state)
        self.policy_version = int(state.get("policy_version", 0))

    def checkpoint_state(self) -> dict[str, Any]:
        """The learner process's current state (weights, optimizer, normalizers); also refreshes the version."""
        label = f"learner p{self.policy_id}"
        if self.process is None or not self.process.is_alive():
            how = "is not running" if self.process is None else how_it_ended(label, self.process)
            raise ComponentFailure(f"{how}: cannot take its checkpoint")
        self.queue.put((MSG_STATE_REQUEST,))
        deadline = time.monotonic() + _STATE_TIMEOUT_SEC
        while not self.conn.poll(0.5):  # a learner that dies meanwhile never answers: do not wait for it
            if not self.process.is_alive():
                raise ComponentFailure(f"{how_it_ended(label, self.process)} while sending its checkpoint state")
            if time.monotonic() > deadline:
                raise ComponentFailure(f"{label} did not send its state within {_STATE_TIMEOUT_SEC}s")
        payload = state_from_bytes(self.conn.recv_bytes())
        self.policy_version = int(payload["policy_version"])
        return payload["state"]


def _buffers_per_split(cfg: Any, rows_per_split: int, num_policies: int) -> int:
    """Slots per split: one in sync mode; in async mode enough for ``num_batches_to_accumulate`` batches."""
    if not cfg.async_rl:
        return 1
    samples_per_batch = cfg.batch_size * cfg.num_batches_per_epoch * num_policies
    samples_per_slot_set = cfg.num_workers * cfg.worker_num_splits * rows_per_split * cfg.rollout
    return max(2, math.ceil(cfg.num_batches_to_accumulate * samples_per_batch / samples_per_slot_set) + 1)


def _step_format(cfg: Any, obs_space: Any, action_space: Any) -> tuple[StepFormat, torch.nn.Module]:
    """Run one forward pass of a fresh actor-critic on a sample observation to learn the output shapes."""
    from sf_runtime.model import create_actor_critic

    model = create_actor_critic(cfg, obs_space, action_space)
    model.eval()
    sample = obs_space.sample()
    obs = {key: torch.as_tensor(np.asarray(value))[None] for key, value in sample.items()}
    rnn = torch.zeros((1, int(model.rnn_state_size)), dtype=torch.float32)
    with torch.no_grad():
        out = model(model.normalize_obs(obs), rnn)
    actions = out["actions"]
    action_dtype = torch.empty(0, dtype=actions.dtype).numpy().dtype.name
    fmt = StepFormat(
        actions=(tuple(actions.shape[1:]), action_dtype),
        action_logits=int(out["action_logits"].shape[-1]),
        rnn_size=int(model.rnn_state_size),
    )
    return fmt, model


def _probe_before_start(cfg: Any) -> Any:
    """Probes the env with the config the run will have (the saved config.json layered in when resuming).

    Called before the experiment directory is prepared, so that a bad env (spaces, factory, first reset) leaves an
    existing experiment exactly as it was.
    """
    from sf_runtime.envs import probe_env_info

    return probe_env_info(run_cfg(cfg))


def _sigkill(pid: int) -> None:
    """SIGKILL a process, if it still exists."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _started_helpers() -> tuple[bool, bool]:
    """Whether the fork server and the resource tracker of this interpreter run already (then we leave them)."""
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    tracker = getattr(multiprocessing.resource_tracker, "_resource_tracker", None)
    return (
        getattr(server, "_forkserver_pid", None) is not None,
        getattr(tracker, "_pid", None) is not None,
    )


def _stop_helpers(server_was_running: bool, tracker_was_running: bool) -> None:
    """Stop the fork server and resource tracker that this run started (they are child processes too)."""
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    tracker = getattr(multiprocessing.resource_tracker, "_resource_tracker", None)
    for running_before, helper in ((server_was_running, server), (tracker_was_running, tracker)):
        if running_before or helper is None or not hasattr(helper, "_stop"):
            continue
        try:
            helper._stop()
        except Exception:
            log.debug("could not stop a multiprocessing helper", exc_info=True)


class ParallelRunner:
    """One parallel training run. Use :func:`run_parallel`.

    Args:
        cfg: the resolved configuration.
        observers: callbacks into the run.
    """

    def __init__(self, cfg: Any, observers: Iterable[RunObserver] = ()) -> None:
        self.cfg = cfg
        self.lifecycle = ParallelLifecycle(cfg, range(cfg.num_policies), observers)
        self.learners = {pid: RemoteLearner(pid) for pid in range(cfg.num_policies)}
        self.arena = SharedArena()
        self.processes: list[Any] = []  # in component order
        self.components: list[Component] = []
        self.state: RunState | None = None
        self.ctx: RunContext | None = None
        self.child_errors: dict[str, str] = {}
        self._finished = False
        self._stuck: set[str] = set()  # components that stopped reporting: not worth waiting for at shutdown
        self._env_failure: EnvFailure | None = None  # raised by the supervision loop once the run must stop
        self._env_info: Any = None  # probed before the experiment dir is touched (run), else in _build_context
        self._helpers = _started_helpers()
        self.slots: SlotOwnership | None = None
        self._mp: Any = None  # the fork server context the children come from
        self.replacements: dict[int, int] = {}  # rollout worker index -> replacements so far
        self._replaced_at: dict[int, float] = {}  # replaced worker index -> when, until its first frames arrive

    # ---- setup ---------------------------------------------------------------------------------------------------

    def _components(self) -> list[Component]:
        cfg = self.cfg
        comps = [Component("learner", p, f"learner p{p}") for p in range(cfg.num_policies)]
        for p in range(cfg.num_policies):
            for i in range(cfg.policy_workers_per_policy):
                comps.append(
                    Component("inference_worker", p * cfg.policy_workers_per_policy + i, f"inference_worker p{p}#{i}")
                )
        comps += [Component("rollout_worker", w, f"rollout_worker {w}") for w in range(cfg.num_workers)]
        return comps

    def _build_context(self) -> RunContext:
        from sf_runtime.envs import probe_env_info

        cfg = self.cfg
        sweep_stale_segments()
        info = self._env_info if self._env_info is not None else probe_env_info(cfg)
        num_agents = int(info.num_agents)
        step_format, model = _step_format(cfg, info.obs_space, info.action_space)
        check_checkpoint_space(cfg, sum(t.numel() * t.element_size() for t in model.state_dict().values()))
        rows_per_split = cfg.num_envs_per_worker // cfg.worker_num_splits * num_agents
        layout = TrajectoryLayout(
            num_workers=cfg.num_workers,
            num_splits=cfg.worker_num_splits,
            rows_per_split=rows_per_split,
            buffers_per_split=_buffers_per_split(cfg, rows_per_split, cfg.num_policies),
            rollout=cfg.rollout,
        )
        self.components = self._components()

        def allocate(arena: Any) -> tuple[Any, list[Any], RunState, SlotOwnership]:
            trajectories = allocate_trajectories(arena, layout, info.obs_space, step_format)
            weights = [WeightSlot.allocate(arena, model).handle for _ in range(cfg.num_policies)]
            state = RunState.allocate(arena, len(self.components))
            return trajectories, weights, state, SlotOwnership.allocate(arena, layout, cfg.num_policies)

        check_shm_budget(cfg, allocate)  # sized by the same code, before anything is created
        trajectories, weights, self.state, self.slots = allocate(self.arena)

        def new_queue(size: int = _QUEUE_BYTES) -> faster_fifo.Queue:
            return faster_fifo.Queue(max_size_bytes=size)

        log.info(
            "Parallel run: %d rollout workers x %d envs (%d splits, %s sampling), %d policies x %d inference "
            "workers, %s, %d trajectory slots per split",
            cfg.num_workers,
            cfg.num_envs_per_worker,
            cfg.worker_num_splits,
            "batched" if cfg.batched_sampling else "non-batched",
            cfg.num_policies,
            cfg.policy_workers_per_policy,
            "async" if cfg.async_rl else "sync",
            layout.buffers_per_split,
        )
        return RunContext(
            cfg=cfg,
            obs_space=info.obs_space,
            action_space=info.action_space,
            num_agents=num_agents,
            frameskip=int(getattr(info, "frameskip", 1) or 1),
            step_format=step_format,
            trajectories=trajectories,
            weights=weights,
            run_state=self.state.handle,
            components=self.components,
            policy_queues=[new_queue() for _ in range(cfg.num_policies)],
            # one inbox per incarnation: a replacement cannot wait on the queue its killed predecessor waited on
            worker_queues=[
                [new_queue()] + [new_queue(_SPARE_INBOX_BYTES) for _ in range(MAX_WORKER_REPLACEMENTS)]
                for _ in range(cfg.num_workers)
            ],
            learner_queues=[new_queue() for _ in range(cfg.num_policies)],
            stats_queue=new_queue(),
            registrations=snapshot_registrations(cfg.env),
            log_level=logging.getLogger().getEffectiveLevel() or logging.INFO,
            slots=self.slots.handle,
        )

    def _start_processes(self, ctx: RunContext) -> None:
        mp_ctx = self._mp = mp.get_context("forkserver")
        mp_ctx.set_forkserver_preload(_PRELOAD)
        for comp in self.components:
            if comp.role == "learner":
                learner = self.learners[comp.index]
                recv_end, send_end = mp_ctx.Pipe(duplex=False)
                proc = mp_ctx.Process(
                    target=learner_main,
                    args=(ctx, comp.index, learner.initial_state, send_end),
                    name=comp.label,
                    daemon=True,
                )
                learner.queue, learner.conn, learner.process = ctx.learner_queues[comp.index], recv_end, proc
            elif comp.role == "inference_worker":
                per_policy = self.cfg.policy_workers_per_policy
                proc = mp_ctx.Process(
                    target=inference_worker_main,
                    args=(ctx, comp.index // per_policy, comp.index % per_policy),
                    name=comp.label,
                    daemon=True,
                )
            else:
                proc = mp_ctx.Process(target=rollout_worker_main, args=(ctx, comp.index), name=comp.label, daemon=True)
            proc.start()
            self.processes.append(proc)
            log.info("Started %s (pid %d)", comp.label, proc.pid)

    def _wait_until_ready(self) -> None:
        """Wait for every component's first heartbeat (its shared memory is mapped by then)."""
        assert self.state is not None
        start = time.monotonic()
        limit = max(60.0, float(self.cfg.heartbeat_reporting_interval))
        while True:
            self._drain_stats()
            self._check_exits()
            missing = self.state.never_reported()
            if not missing:
                break
            if time.monotonic() - start > limit:
                names = ", ".join(self.components[i].label for i in missing)
                raise ComponentFailure(f"{names} did not start within {limit:.0f}s")
            time.sleep(0.02)
        log.info("All %d processes started in %.1fs", len(self.processes), time.monotonic() - start)

    # ---- supervision ---------------------------------------------------------------------------------------------

    def _check_exits(self) -> None:
        for i, (comp, proc) in enumerate(zip(self.components, self.processes, strict=False)):
            if proc.exitcode is None:
                continue
            self._drain_stats()
            guard_error = missing_main_guard_error(proc.exitcode)
            if guard_error is not None:
                raise guard_error
            what = how_it_ended(comp.label, proc)
            if comp.role == "rollout_worker" and proc.exitcode < 0 and comp.label not in self.child_errors:
                self._replace_worker(i, what)
                continue
            detail = self.child_errors.get(comp.label, _NO_ERROR_TEXT)
            raise ComponentFailure(f"{what}:\n{detail}")

    def _replace_worker(self, i: int, what: str) -> None:
        """Start a new rollout worker process in place of one that died of a signal (within the budget)."""
        assert self.ctx is not None and self.state is not None and self.slots is not None
        comp = self.components[i]
        count = self.replacements.get(comp.index, 0) + 1
        if count > MAX_WORKER_REPLACEMENTS:
            raise ComponentFailure(
                f"{what}; it was replaced {MAX_WORKER_REPLACEMENTS} times already (MAX_WORKER_REPLACEMENTS="
                f"{MAX_WORKER_REPLACEMENTS} per rollout worker): the run stops"
            )
        self.replacements[comp.index] = count
        self.lifecycle.record_worker_replacement()
        log.warning("%s; starting a replacement (%d/%d)", what, count, MAX_WORKER_REPLACEMENTS)
        # Requests and answers of the dead process are dropped from now on (inference and the new worker compare
        # incarnations); its slots stay with the learners that hold them and come back through the shared flags.
        self.slots.new_incarnation(comp.index)
        self.state.beat(i)  # the new process has heartbeat_reporting_interval to report, like any other
        proc = self._mp.Process(
            target=rollout_worker_main,
            args=(self.ctx, comp.index, self.arena.segment_fds()),
            name=comp.label,
            daemon=True,
        )
        proc.start()
        self.processes[i] = proc
        self._replaced_at[comp.index] = time.monotonic()
        log.info("Started %s (pid %d) in place of the dead one", comp.label, proc.pid)

    def _check_heartbeats(self) -> None:
        assert self.state is not None
        limit = float(self.cfg.heartbeat_reporting_interval)
        silent = self.state.silent_components(limit)
        if silent:
            self._stuck = {self.components[i].label for i in silent}
            now = time.monotonic()
            names = ", ".join(
                f"{self.components[i].label} (silent for {now - self.state.last_beat(i):.0f}s)" for i in silent
            )
            raise ComponentFailure(
                f"{names}: no heartbeat within heartbeat_reporting_interval={limit:.0f}s; the process is stuck"
            )

    def _drain_stats(self, timeout: float = 0.0) -> None:
        assert self.ctx is not None
        try:
            messages = self.ctx.stats_queue.get_many(block=timeout > 0, timeout=timeout)
        except queue.Empty:
            return
        frameskip = self.ctx.frameskip
        for msg in messages:
            kind = msg[0]
            if kind == "episodes":
                _, worker, frames, episodes = msg
                if worker in self._replaced_at:
                    seconds = time.monotonic() - self._replaced_at.pop(worker)
                    log.info(
                        "rollout_worker %d (replacement %d) is sampling, %.1fs after the death was seen",
                        worker,
                        self.replacements[worker],
                        seconds,
                    )
                self.lifecycle.record_frames(frames)
                by_policy: dict[int, list[dict[str, Any]]] = {}
                for pid, episode in episodes:
                    by_policy.setdefault(pid, []).append(episode)
                for pid, eps in by_policy.items():
                    self.lifecycle.record_episodes(pid, eps)
            elif kind == "train":
                _, pid, samples, version, lag_min, lag_sum, lag_max, lag_count, stats = msg
                self.learners[pid].policy_version = version
                self.lifecycle.add_env_steps(pid, samples * frameskip)
                self.lifecycle.record_training(pid, samples * frameskip, (lag_min, lag_sum, lag_max, lag_count))
                stats = {**stats, "policy_lag_max": float(lag_max), "policy_lag_min": float(lag_min)}
                self.lifecycle.record_train_stats(pid, stats)
            elif kind == "error":
                _, label, text = msg
                self.child_errors[label] = text
                log.error("%s failed:\n%s", label, text)
            elif kind == "env_failure":
                self._on_env_failure(*msg[1:])

    def _on_env_failure(self, label: str, text: str, recreated: bool) -> None:
        """Count an env exception reported by a rollout worker; decide whether the run stops."""
        limit = int(self.cfg.max_env_failures or 0)
        count = self.lifecycle.record_env_failure()
        if recreated and count <= limit:
            log.error("Env failure %d of max_env_failures=%d (envs recreated, the run goes on): %s", count, limit, text)
            return
        if self._env_failure is not None:
            log.error("Env failure %d (the run is stopping): %s", count, text)
            return
        if limit == 0:
            why = "max_env_failures=0: the run stops (set max_env_failures=N to recreate failing envs up to N times)"
        elif not recreated:
            why = f"failure {count}; its envs could not be recreated, so the run stops"
        else:
            why = f"failure {count} is more than max_env_failures={limit}: the run stops"
        self._env_failure = EnvFailure(f"{text}\n{why}")

    # ---- the run -------------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Set up, supervise until a stop condition, and stop in order (raises on a failed component)."""
        lifecycle = self.lifecycle
        self._env_info = _probe_before_start(self.cfg)  # a bad env fails before the experiment dir is touched
        lifecycle.start()
        cfg = self.cfg = lifecycle.cfg  # the saved config.json is layered in when resuming
        for pid, learner in self.learners.items():
            lifecycle.restore(pid, learner)
        self.ctx = self._build_context()
        start = time.monotonic()
        with stop_signals_blocked():  # the fork server started now must survive a SIGTERM to the process group
            self._start_processes(self.ctx)
        self._wait_until_ready()
        self.arena.unlink_all()
        log.info("Startup took %.1fs", time.monotonic() - start)
        lifecycle.restart_clocks()
        lifecycle.notify_start()
        last_check = time.monotonic()
        check_every = min(float(cfg.heartbeat_interval), 1.0)
        while not lifecycle.should_stop():
            self._drain_stats(timeout=0.1)
            if self._env_failure is not None:
                raise self._env_failure
            lifecycle.after_iteration(self.learners)
            now = time.monotonic()
            if now - last_check >= check_every:
                self._check_exits()
                self._check_heartbeats()
                last_check = now
        self._finish()

    def _stop_sampling(self) -> None:
        assert self.state is not None
        self.state.set(STOP_SAMPLING)
        deadline = time.monotonic() + _JOIN_TIMEOUT_SEC
        for comp, proc in zip(self.components, self.processes, strict=False):
            if comp.role != "learner":
                proc.join(max(0.0, deadline - time.monotonic()))
        self._drain_stats()

    def _finish(self) -> None:
        """Stop sampling, save the final checkpoint and summaries, stop the learners."""
        self._stop_sampling()
        if self._env_failure is not None:  # reported while sampling stopped (or before a resumed run's first check)
            raise self._env_failure
        self.lifecycle.finish(self.learners)
        self._finished = True
        log.info("%s", self.lifecycle.final_lag_line())
        assert self.state is not None
        self.state.set(STOP_ALL)

    def _learners_alive(self) -> bool:
        return bool(self.processes) and all(
            proc.is_alive() and comp.label not in self._stuck
            for comp, proc in zip(self.components, self.processes, strict=False)
            if comp.role == "learner"
        )

    def save_after_interrupt(self) -> None:
        """Called after Ctrl-C / SIGTERM: stop sampling and save a checkpoint through the still-running learners."""
        if self.state is None or self._finished or not self._learners_alive():
            return
        self._stop_sampling()
        self.lifecycle.finish(self.learners)
        self._finished = True

    def save_after_failure(self) -> None:
        """Called after a failure: save a checkpoint through the learners when they still run, as after Ctrl-C.

        Components that stopped reporting are killed first, so that stopping the sampling does not wait for them.
        """
        if self.state is None or self._finished:
            return
        if not self._learners_alive():
            log.warning("No checkpoint after the failure: a learner is not running (the last saved one stays)")
            return
        self._kill(lambda comp, _proc: comp.label in self._stuck)
        log.info("Saving a checkpoint after the failure (the learners still run)")
        self._stop_sampling()
        self.lifecycle.finish(self.learners)
        self._finished = True

    def _kill(self, which: Any) -> None:
        """SIGKILL the live children for which ``which(component, process)`` holds (children ignore SIGTERM)."""
        for comp, proc in zip(self.components, self.processes, strict=False):
            if proc.pid is not None and proc.exitcode is None and which(comp, proc):
                log.warning("Killing %s (pid %d)", comp.label, proc.pid)
                _sigkill(proc.pid)

    def stop_at_once(self) -> None:
        """For a second Ctrl-C: kill every child and the helpers this run started, remove the shared memory.

        Runs inside a signal handler right before the process exits; it does not wait for anything.
        """
        if self.state is not None:
            self.state.set(STOP_SAMPLING)
            self.state.set(STOP_ALL)
        for proc in self.processes:
            if proc.pid is not None:
                _sigkill(proc.pid)
        self.arena.unlink_all()
        server = getattr(multiprocessing.forkserver, "_forkserver", None)
        tracker = getattr(multiprocessing.resource_tracker, "_resource_tracker", None)
        for running_before, pid in (
            (self._helpers[0], getattr(server, "_forkserver_pid", None)),
            (self._helpers[1], getattr(tracker, "_pid", None)),
        ):
            if not running_before and pid is not None:
                _sigkill(pid)

    def shutdown(self) -> None:
        """Stop every child (politely, then by SIGKILL: children ignore SIGTERM), remove the shared memory."""
        try:
            if self.state is not None:
                self.state.set(STOP_SAMPLING)
                self.state.set(STOP_ALL)
            self._kill(lambda comp, _proc: comp.label in self._stuck)
            deadline = time.monotonic() + _JOIN_TIMEOUT_SEC
            for proc in self.processes:
                proc.join(max(0.0, deadline - time.monotonic()))
            self._kill(lambda comp, proc: proc.is_alive())
            for proc in self.processes:
                proc.join(5.0)
        finally:
            self.arena.unlink_all()
            self.arena.close_fds()
            if not self._finished:
                self.lifecycle.finish(None)
            _stop_helpers(*self._helpers)


def run_parallel(cfg: Any, observers: Iterable[RunObserver] = ()) -> int:
    """Train with the parallel runner.

    Args:
        cfg: the resolved configuration (``serial_mode=False``).
        observers: callbacks into the run (e.g. to stop once a reward is reached).

    Returns:
        0 on success, 1 on failure (the log names the failed component; a checkpoint is saved when the learners
        still run), 2 when interrupted (after a checkpoint).
    """
    runner = ParallelRunner(cfg, observers)
    return run_guarded(
        runner.run,
        on_interrupt=runner.save_after_interrupt,
        on_failure=runner.save_after_failure,
        cleanup=runner.shutdown,
        stop_at_once=runner.stop_at_once,
    )
