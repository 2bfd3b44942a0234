"""The distributed runner (``distributed=ray``): sampler actors across a Ray cluster, one policy's learner group.

The run's own process (the driver) never steps an env. It joins the cluster (:mod:`.cluster`), creates the sampler
actors (:mod:`.samplers`) and learns the env's spaces from them, so a bad env fails before the experiment directory
is touched; then the :class:`~sf_runtime.runners.lifecycle.ExperimentLifecycle` starts, restores the latest
checkpoint into rank 0's learner, and the learner group forms (:mod:`.learner_group`). The experiment directory,
checkpoints, summaries, stop conditions and observers are the lifecycle's, as with the other runners, so ``enjoy``
and resuming work unchanged.

Main loop: finished rollouts arrive (their payloads stay in the object store; the driver reads only their small
``info``: episodes, size, policy version), episodes and env steps go to the lifecycle, and once ``batch_size *
num_batches_per_epoch`` samples wait the group trains on them, each rank on ``1 / learner_world_size`` of the
rollouts. Rank 0 then publishes its weights (``ray.put`` once per version; an actor gets them with its next call
when it does not have that version yet).

Policy lag: every step records the version that acted. In async mode (``async_rl``) two calls are queued per actor,
so sampling continues while the group trains; a rollout whose newest step is more than ``max_policy_lag`` versions
behind the learner is dropped before it is shipped to the ranks, and the learner masks older steps inside a
rollout, as within one machine. In sync mode each actor has one call, training waits for a rollout of every actor,
rollouts left over are dropped, and all actors get the new weights (lag 0).

Ending: ``run_guarded`` as everywhere. Ctrl-C or SIGTERM saves rank 0's checkpoint, then the cleanup kills every
actor (samplers and ranks) and leaves the cluster (shutting down a local Ray instance it started). A sampler that
dies is restarted (:mod:`.samplers`); a lost learner rank ends the run as failed after saving rank 0's checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import ray

from sf_runtime.errors import SetupError
from sf_runtime.learning import Learner
from sf_runtime.outcome import run_guarded
from sf_runtime.registrations import snapshot_registrations
from sf_runtime.runners.distributed.cluster import ClusterConnection
from sf_runtime.runners.distributed.learner_group import LearnerGroup
from sf_runtime.runners.distributed.rollouts import state_to_arrays
from sf_runtime.runners.distributed.samplers import Rollout, SamplerPool
from sf_runtime.runners.lifecycle import ExperimentLifecycle, RunObserver
from sf_runtime.torch_setup import seed_everything, torch_device

log = logging.getLogger(__name__)

_WAIT_S = 0.5  # longest wait for rollouts in one iteration of the main loop


class DistributedRunner:
    """Runs one experiment with Ray sampler actors and a (possibly multi-process) learner.

    Args:
        cfg: the run's final configuration (``distributed=ray``).
        observers: callbacks into the run.

    Attributes:
        lifecycle: directory, checkpoints, summaries, statistics and stop conditions.
        learner: rank 0's learner, after :meth:`init`.
        samplers: the sampler actors, after :meth:`init`.
        group: the learner group, after :meth:`init`.
        bytes_shipped: bytes of rollout payloads received from the samplers; ``weight_bytes`` those of the weights
            published (each publication counted once per actor that fetched it).
        env_steps_shipped: env steps in those payloads.
        dropped_rollouts: rollouts dropped as too old (async) or left over (sync).
    """

    def __init__(self, cfg: Any, observers: Iterable[RunObserver] = ()) -> None:
        self.cfg = cfg
        self.lifecycle = ExperimentLifecycle(cfg, [0], observers)
        self.cluster = ClusterConnection(cfg)
        self.learner: Learner | None = None
        self.samplers: SamplerPool | None = None
        self.group: LearnerGroup | None = None
        self.samples_per_batch = cfg.batch_size * cfg.num_batches_per_epoch
        self.queue: list[Rollout] = []
        self.queued_trajectories = 0
        self.bytes_shipped = 0
        self.weight_bytes = 0
        self.env_steps_shipped = 0
        self.dropped_rollouts = 0
        self._weights: Any = None
        self._weights_nbytes = 0
        self._version = -1

    # ---- setup ---------------------------------------------------------------------------------------------------

    def init(self) -> None:
        """Join the cluster, start the samplers, prepare the directory, restore, form the learner group."""
        cfg = self.cfg
        seed_everything(cfg.seed)
        registrations = snapshot_registrations(cfg.env)
        self.cluster.connect()
        depth = 2 if cfg.async_rl else 1
        self.samplers = SamplerPool(cfg, registrations, depth=depth, pieces=int(cfg.learner_world_size))
        described = self.samplers.describe()
        self._check_batch_shape(described[0]["num_agents"])
        spaces = (described[0]["obs_space"], described[0]["action_space"])
        self.lifecycle.start()
        self.learner = Learner(cfg, *spaces, policy_id=0, device=torch_device(cfg))
        self.lifecycle.restore(0, self.learner)
        self.group = LearnerGroup(cfg, self.learner, spaces, registrations)
        self.group.start()
        log.info(
            "Distributed %s runner: %d sampler actors of %d agents (pids %s), %d learner rank(s) on %s",
            "async" if cfg.async_rl else "sync",
            len(described),
            described[0]["num_agents"],
            [d["pid"] for d in described],
            cfg.learner_world_size,
            self.learner.device,
        )
        self._publish()
        self.lifecycle.notify_start()

    def _publish(self) -> None:
        assert self.learner is not None
        arrays = state_to_arrays(self.learner.actor_critic)
        self._weights = ray.put(arrays)
        self._weights_nbytes = sum(a.nbytes for a in arrays.values())
        self._version = self.learner.policy_version

    # ---- main loop -----------------------------------------------------------------------------------------------

    def _receive(self, rollouts: list[Rollout]) -> None:
        frameskip = int(self.cfg.env_frameskip)
        for rollout in rollouts:
            info = rollout.info
            steps = info["num_trajectories"] * self.cfg.rollout * frameskip
            self.lifecycle.add_env_steps(0, steps)
            self.lifecycle.record_episodes(0, info["episodes"])
            self.bytes_shipped += info["nbytes"]
            self.env_steps_shipped += steps
            self.queue.append(rollout)
            self.queued_trajectories += info["num_trajectories"]

    def _drop_stale(self) -> None:
        assert self.learner is not None
        oldest = self.learner.policy_version - self.cfg.max_policy_lag
        fresh = [r for r in self.queue if r.info["version"] >= oldest]
        self.dropped_rollouts += len(self.queue) - len(fresh)
        self.queue = fresh
        self.queued_trajectories = sum(r.info["num_trajectories"] for r in fresh)

    def _take_batch(self) -> list[list[Any]] | None:
        """The payload references of one training batch, per learner rank; None when too few wait."""
        needed = self.samples_per_batch // self.cfg.rollout
        if self.queued_trajectories < needed:
            return None
        taken, count = [], 0
        while count < needed:
            rollout = self.queue.pop(0)
            taken.append(rollout)
            count += rollout.info["num_trajectories"]
        self.queued_trajectories -= count
        return [[r.payloads[rank] for r in taken] for rank in range(int(self.cfg.learner_world_size))]

    def _check_batch_shape(self, agents_per_rollout: int) -> None:
        """Batches must be whole rollouts, and each rollout must split evenly over the learner ranks."""
        needed = self.samples_per_batch // self.cfg.rollout
        ranks = int(self.cfg.learner_world_size)
        if needed % agents_per_rollout or agents_per_rollout % ranks:
            raise SetupError(
                f"a sampler actor's rollout holds {agents_per_rollout} trajectories (agents of num_workers * "
                f"num_envs_per_worker envs) and a training batch {needed} (batch_size * num_batches_per_epoch / "
                f"rollout): the batch must be a whole number of rollouts, and each rollout must split evenly over "
                f"learner_world_size={ranks} ranks; change num_envs_per_worker or batch_size"
            )

    def _train_ready(self) -> None:
        assert self.learner is not None and self.group is not None
        trained = False
        while True:
            self._drop_stale()
            shares = self._take_batch()
            if shares is None:
                break
            stats = self.group.train(shares, env_steps=self.lifecycle.env_steps[0])
            stats.update(self.transport_stats())
            self.lifecycle.record_train_stats(0, stats)
            trained = True
        if trained:
            self._publish()
        if trained and not self.cfg.async_rl:
            self.dropped_rollouts += len(self.queue)
            self.queue, self.queued_trajectories = [], 0

    def transport_stats(self) -> dict[str, float]:
        """What the distributed run measured so far, for the summaries (``train/dist/*``)."""
        assert self.samplers is not None and self.group is not None
        steps = max(self.env_steps_shipped, 1)
        return {
            "dist/rollout_bytes_per_env_step": self.bytes_shipped / steps,
            "dist/weight_bytes_per_env_step": self.weight_bytes / steps,
            "dist/dropped_rollouts": float(self.dropped_rollouts),
            "dist/sampler_restarts": float(sum(self.samplers.restarts)),
            "dist/identical_weight_checks": float(self.group.checked_updates),
        }

    def train_loop(self) -> None:
        """Collect and train until a stop condition holds."""
        assert self.samplers is not None and self.learner is not None
        samplers = self.samplers
        while not self.lifecycle.should_stop():
            if self.cfg.async_rl or samplers.in_flight == 0:
                before = samplers.sent_version.copy()
                samplers.fill(self._version, self._weights)
                self.weight_bytes += self._weights_nbytes * sum(
                    1 for old, new in zip(before, samplers.sent_version, strict=True) if old != new
                )
            self._receive(samplers.ready(_WAIT_S))
            if self.cfg.async_rl or samplers.in_flight == 0:
                self._train_ready()
            self.lifecycle.after_iteration({0: self.learner})

    # ---- ending --------------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every actor and leave the cluster; safe to call more than once."""
        try:
            if self.group is not None:
                self.group.stop()
            if self.samplers is not None:
                self.samplers.stop()
        finally:
            self.group = None
            self.samplers = None
            self.cluster.disconnect()

    def run(self) -> int:
        """Initialize, train, save; returns 0 on success, 1 on failure, 2 when interrupted (after saving)."""
        finished = False

        def body() -> None:
            nonlocal finished
            self.init()
            self.train_loop()
            finished = True
            self._log_totals()
            self.lifecycle.finish({0: self.learner})

        def on_interrupt() -> None:
            started = self.learner is not None and self.group is not None
            self.lifecycle.finish({0: self.learner} if started and not finished else None)

        def on_failure() -> None:
            # Rank 0 is intact after losing another rank (LearnerRankLost) or a sampler: keep its progress.
            if self.learner is not None and self.group is not None and not finished:
                log.info("Saving rank 0's checkpoint after the failure")
                self.lifecycle.finish({0: self.learner})

        def cleanup() -> None:
            self.lifecycle.finish(None)
            self.close()

        return run_guarded(body, on_interrupt, on_failure=on_failure, cleanup=cleanup, stop_at_once=self.close)

    def _log_totals(self) -> None:
        if self.samplers is None or self.group is None:
            return
        stats = self.transport_stats()
        log.info(
            "Distributed run: %.0f rollout bytes and %.1f weight bytes per env step, %d sampler restart(s), %d "
            "rollout(s) dropped, %d weight comparisons of the learner ranks",
            stats["dist/rollout_bytes_per_env_step"],
            stats["dist/weight_bytes_per_env_step"],
            stats["dist/sampler_restarts"],
            stats["dist/dropped_rollouts"],
            stats["dist/identical_weight_checks"],
        )


def run_distributed(cfg: Any, observers: Iterable[RunObserver] = ()) -> int:
    """Train with the distributed runner; see :class:`DistributedRunner`."""
    return DistributedRunner(cfg, observers).run()
