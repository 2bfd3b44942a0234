"""The serial runner: sampling, inference and learning in one process (``serial_mode=True``).

Every env of the run (``num_workers * num_envs_per_worker``) lives in one env vector in this process; each env
step is one batched forward pass per policy; training happens in the same thread between rollouts. It is the
runner to test and debug with: no processes, no shared memory, deterministic given a seed.

Sync and async (``async_rl``) differ in which samples a training step sees:

- **sync**: collect rollouts with the current weights until a policy has a full training batch
  (``batch_size * num_batches_per_epoch`` samples), train on it, repeat. Policy lag is 0. When the rollouts of all
  agents do not add up to whole batches, the extra trajectories of a collection round are dropped rather than
  trained on later with stale weights (a warning at start says how many).
- **async**: the serial picture of the parallel runner, where the samplers keep collecting while the learner
  trains. The collector is always one training batch ahead: a batch is trained on only once the next batch's
  samples have been collected, by the weights from before that training step. Every batch after the first is
  therefore trained on by weights one training call newer than the ones that collected it
  (``num_epochs * num_batches_per_epoch`` policy versions: what ``max_policy_lag`` and V-trace exist for), and no
  sample is dropped.

With several policies, envs (or agents) are mapped to policies by :mod:`~sf_runtime.runners.policy_mapping`:
fixed in sync mode, redrawn between rollouts in async mode.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from sf_runtime.envs import APPROX_TOTAL_TRAINING_STEPS, make_env_vector
from sf_runtime.envs.failures import EnvCallError
from sf_runtime.learning import Learner
from sf_runtime.outcome import run_guarded
from sf_runtime.runners.lifecycle import ExperimentLifecycle, RunObserver
from sf_runtime.runners.policy_mapping import PolicyMapping, check_policy_count
from sf_runtime.runners.serial_rollouts import SerialRolloutCollector, concat_trajectories, split_trajectories
from sf_runtime.torch_setup import seed_everything, torch_device

log = logging.getLogger(__name__)


class SerialRunner:
    """Runs one experiment in this process: envs, policies and learners side by side.

    Args:
        cfg: the run's final configuration (:func:`~sf_runtime.runners.run_rl` layers a resumed experiment's
            config.json in before); ``serial_mode`` is not checked here: the runner works either way.
        observers: callbacks into the run (see :class:`~sf_runtime.runners.lifecycle.RunObserver`).

    Attributes:
        lifecycle: directory, checkpoints, summaries, statistics and stop conditions.
        learners: one :class:`~sf_runtime.learning.Learner` per policy id, after :meth:`init`.
        env_vector: all envs of the run, after :meth:`init`.
    """

    def __init__(self, cfg: Any, observers: Iterable[RunObserver] = ()) -> None:
        self.cfg = cfg
        self.policy_ids = list(range(cfg.num_policies))
        self.lifecycle = ExperimentLifecycle(cfg, self.policy_ids, observers)
        self.learners: dict[int, Learner] = {}
        self.env_vector: Any = None
        self.collector: SerialRolloutCollector | None = None
        self.mapping: PolicyMapping | None = None
        self.trajectories_per_batch = 0
        self._queues: dict[int, list[dict[str, Any]]] = {}
        self._queued: dict[int, int] = {}
        self._population: Any = None  # PBT's SerialPopulation, with with_pbt

    def init(self) -> None:
        """Create the envs, prepare the experiment directory, create the learners, resume from the latest
        checkpoints. A bad config, or an env that cannot be created or has unsupported spaces, fails before the
        experiment directory is touched."""
        cfg = self.cfg
        samples_per_batch = cfg.batch_size * cfg.num_batches_per_epoch
        if samples_per_batch % cfg.rollout:
            raise ValueError(
                f"batch_size * num_batches_per_epoch = {samples_per_batch} is not a multiple of rollout={cfg.rollout}: "
                "training batches are made of whole trajectories"
            )
        self.trajectories_per_batch = samples_per_batch // cfg.rollout
        seed_everything(cfg.seed)
        device = torch_device(cfg)
        num_envs = cfg.num_workers * cfg.num_envs_per_worker
        self.env_vector = make_env_vector(
            cfg, 0, 0, num_envs, cfg.batched_sampling, decorrelate=bool(cfg.decorrelate_envs_on_one_worker)
        )
        num_agents = self.env_vector.num_agents_total
        check_policy_count(cfg, num_agents // num_envs)  # before the experiment directory is touched
        self.mapping = PolicyMapping(cfg, num_agents // num_envs, 0, num_envs)
        self.lifecycle.start()
        obs_space, action_space = self.env_vector.observation_space, self.env_vector.action_space
        for pid in self.policy_ids:
            learner = Learner(cfg, obs_space, action_space, policy_id=pid, device=device)
            self.lifecycle.restore(pid, learner)
            self.learners[pid] = learner
        self.collector = SerialRolloutCollector(
            self.env_vector,
            {pid: learner.actor_critic for pid, learner in self.learners.items()},
            lambda pid: self.learners[pid].policy_version,
            self.mapping.policy_of_row,
            cfg.rollout,
            device,
        )
        if cfg.with_pbt:
            self._start_pbt()
        for pid in self.policy_ids:
            self._queues[pid], self._queued[pid] = [], 0
            per_round = self.collector.steps_per_rollout(pid) // cfg.rollout
            rounds = math.ceil(self.trajectories_per_batch / per_round)
            dropped = rounds * per_round - self.trajectories_per_batch
            if not cfg.async_rl and dropped:
                log.warning(
                    "Policy %d: %d of every %d trajectories collected are dropped in sync mode (%d agents x rollout %d "
                    "vs batch of %d samples); make them match to waste nothing",
                    pid,
                    dropped,
                    rounds * per_round,
                    per_round,
                    cfg.rollout,
                    samples_per_batch,
                )
        log.info(
            "Serial %s runner: %d envs, %d agents, %d policies, device %s",
            "async" if cfg.async_rl else "sync",
            num_envs,
            num_agents,
            cfg.num_policies,
            device,
        )
        self.lifecycle.notify_start()

    def _start_pbt(self) -> None:
        """Population-based training (:mod:`sf_runtime.pbt`) as an observer of the lifecycle."""
        from sf_runtime.envs import get_default_reward_shaping
        from sf_runtime.pbt import SerialPopulation, create_pbt

        envs = getattr(self.env_vector, "envs", None)  # a native gymnasium vector has no shaping interface
        default_shaping = get_default_reward_shaping(envs[0].env) if envs else None
        controller = create_pbt(self.cfg, self.lifecycle, default_shaping)
        assert controller is not None
        assert self.mapping is not None
        self._population = SerialPopulation(self.learners, self.env_vector, self.mapping.policy_of_row)
        controller.attach(self._population)

    def _train_ready(self, pid: int) -> None:
        """Train a policy on its queued trajectories when a batch is due (see the module doc for sync vs async)."""
        needed = self.trajectories_per_batch
        # Async keeps one batch collected ahead of training, so training sees samples one training call old.
        reserve = needed if self.cfg.async_rl else 0
        while self._queued[pid] >= needed + reserve:
            queued = concat_trajectories(self._queues[pid])
            batch, rest = split_trajectories(queued, [needed, self._queued[pid] - needed])
            train_stats = self.learners[pid].train(batch, env_steps=self.lifecycle.env_steps[pid])
            self.lifecycle.record_train_stats(pid, train_stats)
            if self.cfg.async_rl:
                self._queues[pid], self._queued[pid] = [rest], self._queued[pid] - needed
            else:
                self._queues[pid], self._queued[pid] = [], 0

    def train_loop(self) -> None:
        """Collect and train until a stop condition holds."""
        assert self.collector is not None, "call init() first"
        frameskip = int(self.cfg.env_frameskip)  # env frames per agent step, whoever applies the repeat
        while not self.lifecycle.should_stop():
            trajectories, episodes = self.collector.collect()
            for pid, batch in trajectories.items():
                num_trajectories = int(batch["rewards"].shape[0])
                self._queues[pid].append(batch)
                self._queued[pid] += num_trajectories
                self.lifecycle.add_env_steps(pid, num_trajectories * self.cfg.rollout * frameskip)
            for pid in self.policy_ids:
                self.lifecycle.record_episodes(pid, (e for e in episodes if e["policy_id"] == pid))
            self._remap(episodes)
            for pid in self.policy_ids:
                self._train_ready(pid)
            self.env_vector.set_training_info({APPROX_TOTAL_TRAINING_STEPS: self.lifecycle.total_env_steps})
            self.lifecycle.after_iteration(self.learners)

    def _remap(self, episodes: list[dict[str, Any]]) -> None:
        """Async mode with several policies: redraw the policies of the envs that finished enough episodes."""
        assert self.mapping is not None and self.collector is not None
        self.mapping.episodes_ended(int(e["policy_agent"]) for e in episodes)
        changed = self.mapping.redraw()
        if changed is not None:
            self.collector.set_policy_of_agent(self.mapping.policy_of_row, changed)
            if self._population is not None:
                self._population.shape_rows(np.flatnonzero(changed))

    def close(self) -> None:
        """Close the envs."""
        if self.env_vector is not None:
            self.env_vector.close()
            self.env_vector = None

    def run(self) -> int:
        """Initialize, train, save; returns 0 on success, 1 on failure, 2 when interrupted (after saving)."""
        finished = False
        env_failed = False

        def body() -> None:
            nonlocal finished, env_failed
            self.init()
            try:
                self.train_loop()
            except EnvCallError:
                env_failed = True
                raise
            finished = True
            self.lifecycle.finish(self.learners)

        def on_interrupt() -> None:
            initialized = self.collector is not None
            self.lifecycle.finish(self.learners if initialized and not finished else None)

        def on_failure() -> None:
            # An env raised: the learners are intact, so keep their progress (after any other failure they may not be).
            if env_failed:
                log.info("Saving a checkpoint after the env failure")
                self.lifecycle.finish(self.learners)

        def cleanup() -> None:
            self.lifecycle.finish(None)  # closes the summary writers when the run failed
            self.close()

        return run_guarded(body, on_interrupt, on_failure=on_failure, cleanup=cleanup)


def run_serial(cfg: Any, observers: Iterable[RunObserver] = ()) -> int:
    """Train with the serial runner; see :class:`SerialRunner`."""
    return SerialRunner(cfg, observers).run()
