"""The experiment lifecycle shared by the serial and the parallel runner.

A runner owns sampling and learning; everything around them is the same for every runner and lives here:

- preparing the experiment directory (``restart_behavior``), saving ``config.json``, the log file ``sf_log.txt``
  (with ``log_to_file``);
- restoring the latest checkpoint of each policy (weights, optimizer, normalizers, env-step count);
- stop conditions (``train_for_env_steps``, ``train_for_seconds``);
- periodic checkpoints (``save_every_sec``), milestone checkpoints kept forever (``save_milestones_sec``), the best
  checkpoint (``save_best_metric`` after ``save_best_after``), the final checkpoint;
- episode statistics averaged over the last ``stats_avg`` episodes, progress lines in the log, and TensorBoard
  summaries (flushed to disk every ``flush_summaries_interval`` seconds):

  * training and performance statistics (``train/*``, ``perf/*``) every ``experiment_summaries_interval`` seconds;
  * episode statistics (``episode/*``): the first time as soon as a policy finished as many episodes in this run
    as the run has envs (``num_workers * num_envs_per_worker``, at most ``stats_avg``: not only the few shortest
    episodes, which finish first), without waiting for an interval; then as soon as new episodes finished, once
    ``clamp(run seconds / 50, 0.5, experiment_summaries_interval)`` seconds passed or the run made a hundredth of
    ``train_for_env_steps`` since the last point: a learning curve starts at the first episodes (a new CartPole run
    at the random policy's ~20) and has about 50 points after 25 seconds and about 100 over a bounded run however fast
    the machine, while a long run writes them every ``experiment_summaries_interval`` seconds, like the rest;
- the observers of the run (:class:`RunObserver`).

How a run ends (status codes, Ctrl-C and SIGTERM) is :mod:`sf_runtime.outcome`'s; the cfg the lifecycle receives is
final (:func:`sf_runtime.runners.run_rl` resolved it). The module is a little over 400 lines: the schedules of
checkpoints, milestones, summaries and stop conditions share one clock and one set of counters.

A runner drives it like this::

    lifecycle = ExperimentLifecycle(cfg, policy_ids=range(cfg.num_policies))
    lifecycle.start()
    for pid, learner in learners.items():
        lifecycle.restore(pid, learner)
    while not lifecycle.should_stop():
        ...  # sample; lifecycle.add_env_steps(pid, n); lifecycle.record_episodes(stats)
        ...  # train; lifecycle.record_train_stats(pid, learner.train(batch))
        lifecycle.after_iteration(learners)
    lifecycle.finish(learners)
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from sf_config import experiment_dir
from sf_runtime import storage

log = logging.getLogger(__name__)

# Progress lines go to the log this often; summaries and checkpoints have their own configurable intervals.
_REPORT_INTERVAL_SEC = 5.0
# Episode statistics are written at most every clamp(run seconds / _EPISODE_POINTS_RATE, _EPISODE_MIN_INTERVAL_SEC,
# experiment_summaries_interval) seconds (see the module docstring).
_EPISODE_MIN_INTERVAL_SEC = 0.5
_EPISODE_POINTS_RATE = 50.0
# ... or once the run made train_for_env_steps / _EPISODE_POINTS_PER_RUN env steps since the last point.
_EPISODE_POINTS_PER_RUN = 100


class CheckpointableLearner(Protocol):
    """What the lifecycle needs from a learner: its state and its version."""

    policy_version: int

    def checkpoint_state(self) -> dict[str, Any]: ...

    def load_checkpoint_state(self, state: dict[str, Any]) -> None: ...


class RunObserver:
    """Callbacks into a training run; subclass it and pass instances to ``run_rl(cfg, observers=[...])``.

    Every method receives the run's :class:`ExperimentLifecycle` (env-step counts, episode statistics,
    :meth:`ExperimentLifecycle.request_stop`). The default implementations do nothing.
    """

    def on_start(self, run: ExperimentLifecycle) -> None:
        """After the experiment directory is ready and checkpoints were restored."""

    def on_iteration(self, run: ExperimentLifecycle) -> None:
        """After each iteration of the runner's main loop (collect-and-train, or one look at the parallel workers)."""

    def on_training_step(self, run: ExperimentLifecycle, policy_id: int) -> None:
        """After a policy's learner finished a training step (``run.training_steps`` counts them in this run)."""

    def on_episode(self, run: ExperimentLifecycle, policy_id: int, episode: Mapping[str, Any]) -> None:
        """For each finished episode of a policy: ``{"reward", "length", "policy_agent", **episode_extra_stats}``."""

    def extra_summaries(self, run: ExperimentLifecycle, policy_id: int) -> Mapping[str, float]:
        """Extra scalars to write with a policy's summaries (keys are TensorBoard tags)."""
        return {}

    def on_finish(self, run: ExperimentLifecycle) -> None:
        """After the final checkpoint, or after an interruption's checkpoint."""


def checkpoint_payload(learner: CheckpointableLearner, env_steps: int, train_seconds: float) -> dict[str, Any]:
    """The dict written to a checkpoint file: the learner's own state plus the runner's counters.

    Args:
        learner: the policy's learner.
        env_steps: environment steps collected for this policy so far (frameskip included).
        train_seconds: seconds of training so far, over all runs of this experiment.

    Returns:
        ``{"learner": learner.checkpoint_state(), "env_steps": ..., "policy_version": ..., "train_seconds": ...}``.
    """
    return {
        "learner": learner.checkpoint_state(),
        "env_steps": int(env_steps),
        "policy_version": int(learner.policy_version),
        "train_seconds": float(train_seconds),
    }


_NOT_STATS = ("policy_agent", "policy_id", "agent")  # numbers of an episode record that are not statistics


class _PolicyStats:
    """Episode statistics of one policy over the last ``stats_avg`` episodes, plus the latest training stats."""

    def __init__(self, stats_avg: int) -> None:
        self.episodes: dict[str, deque[float]] = {}
        self.maxlen = max(1, int(stats_avg))
        self.num_episodes = 0
        self.written_episodes = 0  # num_episodes at the last summary of the episode statistics
        self.train: dict[str, float] = {}

    def add_episode(self, stats: Mapping[str, Any]) -> None:
        self.num_episodes += 1
        for key, value in stats.items():
            if key in _NOT_STATS or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            self.episodes.setdefault(key, deque(maxlen=self.maxlen)).append(float(value))
        agent = stats.get("agent")
        if agent is not None:  # a native multi-agent env's episode: also per agent index (agent<i>/reward, ...)
            for key in ("reward", "length"):
                self.episodes.setdefault(f"agent{agent}/{key}", deque(maxlen=self.maxlen)).append(float(stats[key]))

    def mean(self, key: str) -> float | None:
        values = self.episodes.get(key)
        if not values:
            return None
        return sum(values) / len(values)


class ExperimentLifecycle:
    """Directory, checkpoints, summaries, statistics and stop conditions of one training run.

    Args:
        cfg: the run's final configuration (a resumed experiment's config.json already layered in); never replaced.
        policy_ids: the policies trained in this run (``range(cfg.num_policies)``).
        observers: callbacks notified at start, after each iteration, training step and episode, at summaries and at
            the end.

    Attributes:
        training_steps: training steps of all learners in this run (since it started or resumed).
    """

    def __init__(self, cfg: Any, policy_ids: Iterable[int], observers: Iterable[RunObserver] = ()) -> None:
        self.cfg = cfg
        self.observers = list(observers)
        self.stop_reason: str | None = None
        self.policy_ids = list(policy_ids)
        self.env_steps: dict[int, int] = dict.fromkeys(self.policy_ids, 0)
        self.stats: dict[int, _PolicyStats] = {pid: _PolicyStats(cfg.stats_avg) for pid in self.policy_ids}
        self.checkpoints: dict[int, storage.CheckpointManager] = {}
        self.summaries: dict[int, storage.SummaryWriter] = {}
        self.training_steps = 0
        self._prior_train_seconds = 0.0
        self._start_time = time.monotonic()
        self._session_start_steps: dict[int, int] = dict.fromkeys(self.policy_ids, 0)
        now = self._start_time
        self._last_save = now
        self._last_best_save = now
        self._last_summary = now
        self._last_episode_summary = now
        self._last_episode_summary_steps = 0
        self._last_flush = now
        self._last_milestone = now
        self._last_report = now
        self._last_report_steps = 0
        self._last_report_policy_steps: dict[int, int] = {}
        self._started = False
        self._log_handler: logging.Handler | None = None

    # ---- setup ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Prepare the experiment directory, save the configuration, open the log file, writers and checkpoints."""
        storage.prepare_experiment_dir(self.cfg)
        if self.cfg.log_to_file:
            self._log_handler = storage.setup_log_file(self.cfg)
        storage.save_config(self.cfg)
        for pid in self.policy_ids:
            self.checkpoints[pid] = storage.CheckpointManager(self.cfg, pid)
            self.summaries[pid] = storage.SummaryWriter(self.cfg, pid, flush_secs=self.cfg.flush_summaries_interval)
        self._started = True
        log.info("Experiment directory: %s", experiment_dir(self.cfg))

    def restore(self, policy_id: int, learner: CheckpointableLearner) -> bool:
        """Load the latest checkpoint of a policy, if there is one, into its learner and the step counters.

        Args:
            policy_id: the policy.
            learner: its learner; receives weights, optimizer and normalizer state.

        Returns:
            True when a checkpoint was loaded.
        """
        state = self.checkpoints[policy_id].load(kind="latest")
        if state is None:
            log.info("Policy %d: no checkpoint to resume from, starting from scratch", policy_id)
            return False
        learner.load_checkpoint_state(state["learner"])
        self.env_steps[policy_id] = int(state.get("env_steps", 0))
        self._session_start_steps[policy_id] = self.env_steps[policy_id]
        self._prior_train_seconds = max(self._prior_train_seconds, float(state.get("train_seconds", 0.0)))
        self._last_report_steps = self._last_episode_summary_steps = self.total_env_steps
        self._last_report_policy_steps[policy_id] = self.env_steps[policy_id]
        log.info(
            "Policy %d: resumed from checkpoint at %d env steps, policy version %d",
            policy_id,
            self.env_steps[policy_id],
            learner.policy_version,
        )
        return True

    # ---- counters ------------------------------------------------------------------------------------------------

    @property
    def total_env_steps(self) -> int:
        """Environment steps over all policies."""
        return sum(self.env_steps.values())

    @property
    def session_seconds(self) -> float:
        """Seconds since this run started (not counting earlier runs of a resumed experiment)."""
        return time.monotonic() - self._start_time

    @property
    def train_seconds(self) -> float:
        """Seconds of training over all runs of this experiment."""
        return self._prior_train_seconds + self.session_seconds

    def add_env_steps(self, policy_id: int, steps: int) -> None:
        """Count environment steps collected for a policy (frameskip already applied by the caller)."""
        self.env_steps[policy_id] += int(steps)

    def record_episodes(self, policy_id: int, episodes: Iterable[Mapping[str, Any]]) -> None:
        """Add finished episodes (the ``"episode"`` dicts of the env wrappers) to a policy's statistics."""
        stats = self.stats[policy_id]
        for episode in episodes:
            stats.add_episode(episode)
            for observer in self.observers:
                observer.on_episode(self, policy_id, episode)

    def record_train_stats(self, policy_id: int, train_stats: Mapping[str, float]) -> None:
        """Keep the latest training statistics of a policy for the next summary; one call per training step.

        Counts the step in :attr:`training_steps` and tells the observers (:meth:`RunObserver.on_training_step`).
        """
        self.stats[policy_id].train = {k: float(v) for k, v in train_stats.items()}
        self.training_steps += 1
        for observer in self.observers:
            observer.on_training_step(self, policy_id)

    def mean_reward(self, policy_id: int = 0) -> float | None:
        """Average episode reward of a policy over the last ``stats_avg`` episodes, or None before any episode."""
        return self.stats[policy_id].mean("reward")

    # ---- stop conditions -----------------------------------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        """Ask the runner to stop (and save) after the current iteration."""
        if self.stop_reason is None:
            self.stop_reason = reason
            log.info("Stop requested: %s", reason)

    def should_stop(self) -> bool:
        """True once stopping was requested, every policy reached ``train_for_env_steps``, or the run lasted
        ``train_for_seconds``."""
        if self.stop_reason is not None:
            return True
        if all(steps >= self.cfg.train_for_env_steps for steps in self.env_steps.values()):
            log.info("Reached train_for_env_steps=%s", self.cfg.train_for_env_steps)
            return True
        if self.train_seconds >= self.cfg.train_for_seconds:
            log.info("Reached train_for_seconds=%s", self.cfg.train_for_seconds)
            return True
        return False

    # ---- periodic work -------------------------------------------------------------------------------------------

    def notify_start(self) -> None:
        """Start the clocks and tell the observers that the run started (once the runner is set up and restored)."""
        now = time.monotonic()
        self._start_time = self._last_save = self._last_best_save = self._last_summary = self._last_report = now
        self._last_episode_summary = self._last_flush = self._last_milestone = now
        for observer in self.observers:
            observer.on_start(self)

    def after_iteration(self, learners: Mapping[int, CheckpointableLearner]) -> None:
        """Notify the observers and write what is due: progress line, summaries, periodic and best checkpoints."""
        for observer in self.observers:
            observer.on_iteration(self)
        now = time.monotonic()
        if now - self._last_report >= _REPORT_INTERVAL_SEC:
            self.report(now)
        if now - self._last_summary >= self.cfg.experiment_summaries_interval:
            self.write_summaries(learners)
            self._last_summary = self._last_episode_summary = now
            self._last_episode_summary_steps = self.total_env_steps
        elif self._episode_summary_due(now) and self.write_episode_summaries():
            self._last_episode_summary = now
            self._last_episode_summary_steps = self.total_env_steps
        if now - self._last_flush >= self.cfg.flush_summaries_interval:
            for writer in self.summaries.values():
                writer.flush()
            self._last_flush = now
        if now - self._last_save >= self.cfg.save_every_sec:
            self.save(learners)
        if self.cfg.save_milestones_sec > 0 and now - self._last_milestone >= self.cfg.save_milestones_sec:
            self.save_milestones(learners)
        if now - self._last_best_save >= self.cfg.save_best_every_sec:
            self.maybe_save_best(learners)
            self._last_best_save = now

    def report(self, now: float | None = None) -> None:
        """Log FPS, env steps and the average episode reward of each policy (with several, each one's FPS too)."""
        now = time.monotonic() if now is None else now
        elapsed = max(now - self._last_report, 1e-6)
        total = self.total_env_steps
        fps = (total - self._last_report_steps) / elapsed
        self._last_report, self._last_report_steps = now, total
        parts = [f"FPS {fps:,.0f}", f"env steps {total:,}"]
        for pid in self.policy_ids:
            part = f"p{pid}"
            if len(self.policy_ids) > 1:
                steps = self.env_steps[pid]
                part += f" FPS {(steps - self._last_report_policy_steps.get(pid, 0)) / elapsed:,.0f}"
                self._last_report_policy_steps[pid] = steps
            reward = self.mean_reward(pid)
            if reward is not None:
                part += f" avg reward {reward:.3f} ({self.stats[pid].num_episodes} episodes)"
            if part != f"p{pid}":
                parts.append(part)
        log.info("%s", ", ".join(parts))

    def episode_summary_interval(self) -> float:
        """Seconds between two summaries of the episode statistics now (see the module docstring)."""
        longest = float(self.cfg.experiment_summaries_interval)
        return min(longest, max(_EPISODE_MIN_INTERVAL_SEC, self.session_seconds / _EPISODE_POINTS_RATE))

    def _episode_summary_due(self, now: float) -> bool:
        if self._first_episodes_unwritten() or now - self._last_episode_summary >= self.episode_summary_interval():
            return True
        steps_per_point = self.cfg.train_for_env_steps * len(self.policy_ids) / _EPISODE_POINTS_PER_RUN
        return self.total_env_steps - self._last_episode_summary_steps >= steps_per_point

    def _first_episodes_unwritten(self) -> bool:
        """True when a policy has no episode summary in this run yet and finished enough episodes for its first one:
        one per env of the run, at most ``stats_avg`` (see the module docstring)."""
        num_envs = int(getattr(self.cfg, "num_workers", 1) or 1) * int(getattr(self.cfg, "num_envs_per_worker", 1) or 1)
        enough = max(1, min(int(self.cfg.stats_avg), num_envs))
        return any(stats.num_episodes >= enough and stats.written_episodes == 0 for stats in self.stats.values())

    def _episode_scalars(self, pid: int) -> dict[str, float]:
        stats = self.stats[pid]
        stats.written_episodes = stats.num_episodes
        scalars: dict[str, float] = {}
        for key in stats.episodes:
            value = stats.mean(key)
            if value is not None:
                scalars[f"episode/{key}"] = value
        return scalars

    def write_episode_summaries(self) -> bool:
        """Write the episode statistics of the policies that finished episodes since their last summary.

        Returns:
            True when something was written.
        """
        written = False
        for pid in self.policy_ids:
            if self.stats[pid].num_episodes > self.stats[pid].written_episodes:
                self.summaries[pid].scalars(self._episode_scalars(pid), self.summary_step(pid))
                written = True
        return written

    def write_summaries(self, learners: Mapping[int, CheckpointableLearner]) -> None:
        """Write the policies' episode and training statistics as TensorBoard scalars at their env-step count."""
        session_seconds = max(self.session_seconds, 1e-6)
        for pid in self.policy_ids:
            stats = self.stats[pid]
            scalars = self._episode_scalars(pid)
            for key, value in stats.train.items():
                scalars[f"train/{key}"] = value
            scalars["perf/fps"] = (self.env_steps[pid] - self._session_start_steps[pid]) / session_seconds
            scalars["perf/policy_version"] = float(learners[pid].policy_version)
            scalars["perf/num_episodes"] = float(stats.num_episodes)
            for observer in self.observers:
                scalars.update(observer.extra_summaries(self, pid))
            self.summaries[pid].scalars(scalars, self.summary_step(pid))

    def summary_step(self, policy_id: int) -> int:
        """The x value of a policy's summaries: env frames, or agent steps with ``summaries_use_frameskip=False``."""
        if self.cfg.summaries_use_frameskip:
            return self.env_steps[policy_id]
        return self.env_steps[policy_id] // max(1, int(self.cfg.env_frameskip))

    def save(self, learners: Mapping[int, CheckpointableLearner]) -> None:
        """Save a checkpoint of every policy now."""
        for pid in self.policy_ids:
            learner = learners[pid]
            payload = checkpoint_payload(learner, self.env_steps[pid], self.train_seconds)
            self.checkpoints[pid].save(payload, self.env_steps[pid], learner.policy_version)
        self._last_save = time.monotonic()
        log.info("Saved checkpoints at %d env steps", self.total_env_steps)

    def save_milestones(self, learners: Mapping[int, CheckpointableLearner]) -> None:
        """Save a milestone checkpoint of every policy now (``checkpoint_p<policy>/milestones/``, never rotated)."""
        for pid in self.policy_ids:
            learner = learners[pid]
            payload = checkpoint_payload(learner, self.env_steps[pid], self.train_seconds)
            self.checkpoints[pid].save_milestone(payload, self.env_steps[pid], learner.policy_version)
        self._last_milestone = time.monotonic()
        log.info("Saved milestone checkpoints at %d env steps", self.total_env_steps)

    def maybe_save_best(self, learners: Mapping[int, CheckpointableLearner]) -> None:
        """Save a policy's best checkpoint when its ``save_best_metric`` improved, after ``save_best_after`` steps."""
        for pid in self.policy_ids:
            metric = self.stats[pid].mean(self.cfg.save_best_metric)
            # checked before the payload is taken: a learner in another process sends its state over a pipe
            if not self.checkpoints[pid].is_new_best(metric, self.env_steps[pid]):
                continue
            learner = learners[pid]
            payload = checkpoint_payload(learner, self.env_steps[pid], self.train_seconds)
            self.checkpoints[pid].save_best(payload, metric, self.env_steps[pid], learner.policy_version)

    def finish(self, learners: Mapping[int, CheckpointableLearner] | None) -> None:
        """Final checkpoint (when learners are given and the run started), summaries; closes writers and logs.

        Safe to call more than once, and after a failed :meth:`start`.
        """
        try:
            if learners is not None and self._started:
                self.report()
                self.write_summaries(learners)
                self.maybe_save_best(learners)
                self.save(learners)
                for observer in self.observers:
                    observer.on_finish(self)
        finally:
            for writer in self.summaries.values():
                writer.close()
            self.summaries.clear()
            if self._log_handler is not None:
                storage.close_log_file(self._log_handler)
                self._log_handler = None
            self._started = False
