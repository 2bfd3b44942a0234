"""The main process of a parallel run: it sets the run up, then only supervises.

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
the learners do not hold (:mod:`.slot_ownership`), and the run goes on; at most
``MAX_WORKER_REPLACEMENTS`` times per worker index, after which the run stops with status 1. An inference worker or a
learner that dies stops the run (status 1, a checkpoint first when every learner still runs); the message names it.

Ctrl-C (SIGINT) and SIGTERM act through the main process only (children ignore both, also when the signal goes to
the whole process group as from a terminal or a container stop): it saves a checkpoint through the learners, shuts
everything down and returns 2. A second signal during that wind-down kills the children by force, removes the shared
memory and exits with 2 at once. When a component fails (a process died or went silent, an env raised more often
than ``max_env_failures`` allows) and the learners still run, a checkpoint is saved before the shutdown too, and the
status is 1. The wind-down after a failure or an interruption has a budget (:mod:`.wind_down`).

This module is over 400 lines (about 500): supervision and the wind-down share the run's process table and its
deadlines, and reading them side by side is what makes the stop order checkable.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import queue
import signal
import time
from collections.abc import Iterable
from typing import Any

from sf_runtime.outcome import STATUS_FAILURE, STATUS_INTERRUPTED, run_guarded
from sf_runtime.registrations import missing_main_guard_error
from sf_runtime.runners.lifecycle import RunObserver
from sf_runtime.runners.parallel.build_context import MAX_WORKER_REPLACEMENTS, build_context, run_components
from sf_runtime.runners.parallel.context import RunContext
from sf_runtime.runners.parallel.death_watch import DeathWatcher, repair_queues_of_dead
from sf_runtime.runners.parallel.failures import (
    EXIT_REPORT_SEC,
    NO_ERROR_TEXT,
    ComponentFailure,
    EnvFailure,
    has_ended,
    how_it_ended,
)
from sf_runtime.runners.parallel.health import ParallelLifecycle
from sf_runtime.runners.parallel.heartbeat import STOP_ALL, STOP_SAMPLING, Component, RunState
from sf_runtime.runners.parallel.launch import (
    fork_server,
    helpers_running,
    kill_helpers,
    sigkill,
    start_child,
    stop_helpers,
)
from sf_runtime.runners.parallel.pbt_link import ParallelPopulation, describe_applied, pbt_snapshot
from sf_runtime.runners.parallel.process_setup import STACK_DUMP_SIGNAL, stop_signals_blocked
from sf_runtime.runners.parallel.queue_recovery import lock_holder, release_orphaned_locks
from sf_runtime.runners.parallel.remote_learner import RemoteLearner
from sf_runtime.runners.parallel.reports import (
    ChildError,
    EnvFailureReport,
    EpisodesReport,
    PbtAppliedReport,
    TrainReport,
)
from sf_runtime.runners.parallel.shared_memory import SharedArena
from sf_runtime.runners.parallel.slot_ownership import SlotOwnership
from sf_runtime.runners.parallel.wind_down import WindDownWatchdog
from sf_runtime.runners.policy_mapping import check_policy_count, check_sync_rounds

log = logging.getLogger(__name__)

_STARTUP_LIMIT_SEC = 60.0  # a new process's first heartbeat (at least heartbeat_reporting_interval)
_JOIN_TIMEOUT_SEC = 20.0  # sampling and learner processes, to stop after a normal finish
_GRACE_AFTER_FAILURE_SEC = 5.0  # sampling processes, to stop after a failure or an interruption: then SIGKILL
_STACK_DUMP_SEC = 2.0  # a stuck child's time to print its stacks before it is killed
_WIND_DOWN_LIMIT_SEC = 45.0  # the whole wind-down after a failure or an interruption (see wind_down.py)


class ParallelRunner:
    """One parallel training run. Use :func:`run_parallel`.

    Args:
        cfg: the run's final configuration (:func:`~sf_runtime.runners.run_rl` layers a resumed experiment's
            config.json in before).
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
        self._helpers = helpers_running()
        self.slots: SlotOwnership | None = None
        self._mp: Any = None  # the fork server context the children come from
        self.replacements: dict[int, int] = {}  # rollout worker index -> replacements so far
        self._replaced_at: dict[int, float] = {}  # replaced worker index -> when, until its first frames arrive
        self._starting: dict[int, tuple[float, float]] = {}  # component -> (started, heartbeat then) of a replacement
        self._watchdog = WindDownWatchdog(_WIND_DOWN_LIMIT_SEC, self.stop_at_once)
        self._death_watch = DeathWatcher(self._all_queues)

    # ---- setup ---------------------------------------------------------------------------------------------------

    def _build_context(self) -> RunContext:
        """The shared memory and queues of the run (the env is probed here unless :meth:`run` did already)."""
        from sf_runtime.envs import probe_env_info

        info = self._env_info if self._env_info is not None else probe_env_info(self.cfg, mp_context=self._mp)
        self.components = run_components(self.cfg)
        ctx, self.state, self.slots = build_context(self.cfg, info, self.arena, self.components)
        return ctx

    def _start_processes(self, ctx: RunContext) -> None:
        for comp in self.components:
            learner = self.learners[comp.index] if comp.role == "learner" else None
            proc = start_child(self._mp, ctx, comp, learner)
            self.processes.append(proc)
            self._death_watch.watch(comp.label, proc.pid, self._queues_only_read_by(comp))
            log.info("Started %s (pid %d)", comp.label, proc.pid)

    def _wait_until_ready(self) -> None:
        """Wait for every component's first heartbeat (its shared memory is mapped by then)."""
        assert self.state is not None
        start = time.monotonic()
        limit = self._startup_limit()
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

    def _startup_limit(self) -> float:
        """Seconds a starting process has for its first heartbeat: starting is slow on a busy machine, not a hang."""
        return max(_STARTUP_LIMIT_SEC, float(self.cfg.heartbeat_reporting_interval))

    # ---- supervision ---------------------------------------------------------------------------------------------

    def _check_exits(self) -> None:
        for i, (comp, proc) in enumerate(zip(self.components, self.processes, strict=False)):
            if proc.exitcode is None:
                continue
            self._recover_queues_of(comp)  # before anything waits on a queue the dead process used
            self._drain_stats()
            guard_error = missing_main_guard_error(proc.exitcode)
            if guard_error is not None:
                raise guard_error
            what = how_it_ended(comp.label, proc)
            if comp.role == "rollout_worker" and proc.exitcode < 0 and comp.label not in self.child_errors:
                self._replace_worker(i, what)
                continue
            detail = self.child_errors.get(comp.label, NO_ERROR_TEXT)
            raise ComponentFailure(f"{what}:\n{detail}")

    def _recover_queues_of(self, comp: Component) -> None:
        """Repair the queues a dead child left behind (the death watcher has done so already where it runs)."""
        if self.ctx is not None:
            repair_queues_of_dead(comp.label, self._all_queues(), self._queues_only_read_by(comp))

    def _all_queues(self) -> list[Any]:
        ctx = self.ctx
        if ctx is None:
            return []
        return [*ctx.policy_queues, *ctx.learner_queues, ctx.stats_queue, *(q for w in ctx.worker_queues for q in w)]

    def _queues_only_read_by(self, comp: Component) -> list[Any]:
        """The queues whose one reader is this component's current process (see :mod:`.queue_recovery`)."""
        ctx = self.ctx
        assert ctx is not None and self.slots is not None
        if comp.role == "rollout_worker":
            return [ctx.worker_queues[comp.index][self.slots.incarnation(comp.index)]]
        if comp.role == "learner":
            return [ctx.learner_queues[comp.index]]
        if self.cfg.policy_workers_per_policy == 1:
            return [ctx.policy_queues[comp.index]]
        return []  # one of several inference workers reading the policy's queue: the others still wait on it

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
        self.state.beat(i)
        self._starting[i] = (time.monotonic(), self.state.last_beat(i))  # until its own first heartbeat
        proc = start_child(self._mp, self.ctx, comp, segments=self.arena.segment_fds())
        self.processes[i] = proc
        self._death_watch.watch(comp.label, proc.pid, self._queues_only_read_by(comp))
        self._replaced_at[comp.index] = time.monotonic()
        log.info("Started %s (pid %d) in place of the dead one", comp.label, proc.pid)

    def _check_heartbeats(self) -> None:
        assert self.state is not None
        limit = float(self.cfg.heartbeat_reporting_interval)
        now = time.monotonic()
        for i, (started, beat_at_start) in list(self._starting.items()):
            if self.state.last_beat(i) != beat_at_start:
                del self._starting[i]  # it reported: from now on it has heartbeat_reporting_interval like the others
            elif now - started > self._startup_limit():
                del self._starting[i]  # no first heartbeat in time: silent like any other
        silent = [i for i in self.state.silent_components(limit) if i not in self._starting]
        ended = [proc for proc in self.processes if has_ended(proc)] if silent else []
        if ended:
            # A death, not a hang, explains the silence (of the dead, and of those waiting on it): wait for the fork
            # server to report how they ended, and handle them as deaths.
            for proc in ended:
                proc.join(EXIT_REPORT_SEC)
            self._check_exits()
            silent = [i for i in silent if i not in self._starting and not has_ended(self.processes[i])]
        if silent:
            self._stuck = {self.components[i].label for i in silent}
            self._dump_stacks(silent)
            names = ", ".join(
                f"{self.components[i].label} (silent for {now - self.state.last_beat(i):.0f}s)" for i in silent
            )
            raise ComponentFailure(
                f"{names}: no heartbeat within heartbeat_reporting_interval={limit:.0f}s; the process is stuck"
            )

    def _dump_stacks(self, indices: list[int]) -> None:
        """Have silent children print their threads' stacks to stderr, so that the log says where they were stuck."""
        for i in indices:
            proc = self.processes[i]
            if proc.pid is not None and not has_ended(proc):
                log.warning(
                    "Stack of %s (pid %d), which stopped reporting, follows on stderr",
                    self.components[i].label,
                    proc.pid,
                )
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, STACK_DUMP_SIGNAL)
        time.sleep(_STACK_DUMP_SEC)  # the dump is written by the child's signal handler; then it is killed

    def _drain_stats(self, timeout: float = 0.0) -> None:
        assert self.ctx is not None
        release_orphaned_locks([self.ctx.stats_queue])
        if lock_holder(self.ctx.stats_queue) is not None:
            return  # a child is putting: read next time rather than wait on a lock its holder may never release
        try:
            reports = self.ctx.stats_queue.get_many(block=timeout > 0, timeout=timeout)
        except queue.Empty:
            return
        for report in reports:
            match report:
                case EpisodesReport():
                    self._on_episodes(report)
                case TrainReport():
                    self._on_training(report)
                case ChildError(label, text):
                    self.child_errors[label] = text
                    log.error("%s failed:\n%s", label, text)
                case EnvFailureReport():
                    self._on_env_failure(report)
                case PbtAppliedReport():
                    log.info("%s", describe_applied(report))

    def _on_episodes(self, report: EpisodesReport) -> None:
        if report.worker in self._replaced_at:
            seconds = time.monotonic() - self._replaced_at.pop(report.worker)
            log.info(
                "rollout_worker %d (replacement %d) is sampling, %.1fs after the death was seen",
                report.worker,
                self.replacements[report.worker],
                seconds,
            )
        self.lifecycle.record_frames(report.frames)
        by_policy: dict[int, list[dict[str, Any]]] = {}
        for pid, episode in report.episodes:
            by_policy.setdefault(pid, []).append(episode)
        for pid, episodes in by_policy.items():
            self.lifecycle.record_episodes(pid, episodes)

    def _on_training(self, report: TrainReport) -> None:
        assert self.ctx is not None
        pid, frames = report.policy_id, report.samples * self.ctx.frameskip
        self.learners[pid].policy_version = report.policy_version
        self.lifecycle.add_env_steps(pid, frames)
        self.lifecycle.record_training(pid, frames, report.lag)
        lag = {"policy_lag_max": float(report.lag.max), "policy_lag_min": float(report.lag.min)}
        self.lifecycle.record_train_stats(pid, {**report.stats, **lag})

    def _on_env_failure(self, report: EnvFailureReport) -> None:
        """Count an env exception reported by a rollout worker; decide whether the run stops."""
        text, recreated = report.text, report.recreated
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
        elif count > limit:
            why = f"failure {count} is more than max_env_failures={limit}: the run stops"
        else:
            why = f"failure {count}; its envs could not be recreated, so the run stops"
        self._env_failure = EnvFailure(f"{text}\n{why}")

    # ---- the run -------------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Set up, supervise until a stop condition, and stop in order (raises on a failed component)."""
        lifecycle = self.lifecycle
        from sf_runtime.envs import probe_env_info
        from sf_runtime.pbt import create_pbt

        cfg = self.cfg
        with stop_signals_blocked():  # the fork server started now must survive a SIGTERM to the process group
            self._mp = fork_server()  # it preloads torch while this process goes on
        # a child of the fork server probes the env (no interpreter of its own to start); a bad env fails before the
        # experiment dir is touched, and so does a num_policies the run cannot serve
        self._env_info = probe_env_info(cfg, mp_context=self._mp)
        check_policy_count(cfg, int(self._env_info.num_agents))
        check_sync_rounds(cfg, int(self._env_info.num_agents))
        lifecycle.start()
        for pid, learner in self.learners.items():
            lifecycle.restore(pid, learner)
        if lifecycle.should_stop():  # resumed at its goal: start no process (the serial runner steps no env either)
            log.info("Nothing left to train: raise train_for_env_steps (or train_for_seconds) to train on")
            return
        pbt = create_pbt(cfg, lifecycle, self._env_info.reward_shaping_scheme) if cfg.with_pbt else None
        self.ctx = self._build_context()
        if pbt is not None:
            assert self.slots is not None
            self.ctx.pbt = pbt_snapshot(pbt.settings)
            pbt.attach(ParallelPopulation(self.ctx, self.learners, self.slots))
        start = time.monotonic()
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

    def _stop_sampling(self, grace_sec: float = _JOIN_TIMEOUT_SEC) -> None:
        """Stop the rollout and inference workers: ask, wait up to ``grace_sec``, then SIGKILL what still runs.

        Their state is not saved, so killing them loses nothing; one blocked on a lock a dead process left behind
        would never exit by itself.
        """
        assert self.state is not None
        self.state.set(STOP_SAMPLING)
        deadline = time.monotonic() + grace_sec
        for comp, proc in zip(self.components, self.processes, strict=False):
            if comp.role != "learner":
                proc.join(max(0.0, deadline - time.monotonic()))
        self._kill(lambda comp, proc: comp.role != "learner" and proc.is_alive())
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

    def _save_in_wind_down(self) -> None:
        """Stop sampling and save a checkpoint through the learners, within the wind-down's budget."""
        self._stop_sampling(min(_GRACE_AFTER_FAILURE_SEC, self._watchdog.remaining()))
        for learner in self.learners.values():
            learner.answer_within_sec = max(1.0, self._watchdog.remaining() - 10.0)  # leave time for the shutdown
        self.lifecycle.finish(self.learners)
        self._finished = True

    def save_after_interrupt(self) -> None:
        """Called after Ctrl-C / SIGTERM: stop sampling and save a checkpoint through the still-running learners."""
        self._watchdog.start(STATUS_INTERRUPTED)
        if self.state is None or self._finished or not self._learners_alive():
            return
        self._save_in_wind_down()

    def save_after_failure(self) -> None:
        """Called after a failure: save a checkpoint through the learners when they still run, as after Ctrl-C.

        Components that stopped reporting are killed first, so that stopping the sampling does not wait for them.
        """
        self._watchdog.start(STATUS_FAILURE)
        if self.state is None or self._finished:
            return
        if not self._learners_alive():
            log.warning("No checkpoint after the failure: a learner is not running (the last saved one stays)")
            return
        self._kill(lambda comp, _proc: comp.label in self._stuck)
        log.info("Saving a checkpoint after the failure (the learners still run)")
        self._save_in_wind_down()

    def _kill(self, which: Any) -> None:
        """SIGKILL the live children for which ``which(component, process)`` holds (children ignore SIGTERM)."""
        for comp, proc in zip(self.components, self.processes, strict=False):
            if proc.pid is not None and proc.exitcode is None and which(comp, proc):
                log.warning("Killing %s (pid %d)", comp.label, proc.pid)
                sigkill(proc.pid)

    def stop_at_once(self) -> None:
        """For a second Ctrl-C: kill every child and the helpers this run started, remove the shared memory.

        Runs inside a signal handler right before the process exits; it does not wait for anything.
        """
        if self.state is not None:
            self.state.set(STOP_SAMPLING)
            self.state.set(STOP_ALL)
        for proc in self.processes:
            if proc.pid is not None:
                sigkill(proc.pid)
        self.arena.unlink_all()
        kill_helpers(self._helpers)

    def shutdown(self) -> None:
        """Stop every child (politely, then by SIGKILL: children ignore SIGTERM), remove the shared memory."""
        try:
            if self.state is not None:
                self.state.set(STOP_SAMPLING)
                self.state.set(STOP_ALL)
            self._kill(lambda comp, _proc: comp.label in self._stuck)
            deadline = time.monotonic() + min(_JOIN_TIMEOUT_SEC, max(1.0, self._watchdog.remaining() - 5.0))
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
            stop_helpers(self._helpers)
            self._death_watch.stop()
            self._watchdog.stop()


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
    # SIGUSR1 prints this process's stacks too (as its children's), unless the host program uses the signal itself
    dump_stacks = signal.getsignal(STACK_DUMP_SIGNAL) == signal.SIG_DFL
    if dump_stacks:
        faulthandler.register(STACK_DUMP_SIGNAL, all_threads=True)
    try:
        return run_guarded(
            runner.run,
            on_interrupt=runner.save_after_interrupt,
            on_failure=runner.save_after_failure,
            cleanup=runner.shutdown,
            stop_at_once=runner.stop_at_once,
        )
    finally:
        if dump_stacks:
            faulthandler.unregister(STACK_DUMP_SIGNAL)
