"""The learner group of a distributed run: rank 0 in the driver, ranks 1.. as Ray actors, trained together.

With ``learner_world_size = 1`` the group is the driver's own :class:`~sf_runtime.learning.Learner` and nothing
else. With more, :meth:`LearnerGroup.start` creates the :class:`~.learner_rank.LearnerRank` actors (one CPU each, or
one GPU each on a GPU device), picks a rendezvous address (``MASTER_ADDR``, else the driver's node address) and a
free port, and every rank joins one torch.distributed group (gloo on CPU, NCCL on GPU); the other ranks load rank
0's starting state. A training step hands each rank its share of the batch's rollouts (object references: each
rank reads its payloads straight from the object store) and trains rank 0 in the driver meanwhile; the gradients
are averaged inside the updates (:mod:`.ddp`). The ranks' weight digests are compared after every step.

A rank that dies makes the collectives of the others fail (a closed connection, at the latest after
``learner_rank_timeout_sec``): :meth:`LearnerGroup.train` raises :class:`LearnerRankLost`, and the runner saves
rank 0's checkpoint and ends the run as failed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import ray
from ray.exceptions import RayActorError

from sf_runtime.learning import Learner
from sf_runtime.registrations import Registrations
from sf_runtime.runners.distributed.cluster import free_port, rendezvous_address
from sf_runtime.runners.distributed.ddp import (
    GradientAverager,
    init_process_group,
    leave_process_group,
    train_rank,
)
from sf_runtime.runners.distributed.learner_rank import LearnerRank
from sf_runtime.runners.distributed.rollouts import to_batch

log = logging.getLogger(__name__)

# How long the rank actors may take to be placed and to build their learners.
_START_TIMEOUT_S = 300.0


class LearnerRankLost(RuntimeError):
    """A learner rank died or stopped answering; the group cannot train any more."""


class RanksDiverged(RuntimeError):
    """The ranks' weights differ after an update (they must be bit-identical)."""


class LearnerGroup:
    """Rank 0 (``learner``, in this process) and the other ranks of one policy.

    Args:
        cfg: the run's configuration (``learner_world_size``, ``learner_rank_timeout_sec``, ``device``).
        learner: rank 0's learner (already restored from a checkpoint when resuming).
        spaces: the env's ``(obs_space, action_space)``.
        registrations: what the rank actors restore.

    Attributes:
        checked_updates: updates (and training calls) after which all ranks' weights were compared equal.
    """

    def __init__(self, cfg: Any, learner: Learner, spaces: tuple[Any, Any], registrations: Registrations) -> None:
        self.cfg = cfg
        self.learner = learner
        self.world_size = int(cfg.learner_world_size)
        self.spaces = spaces
        self.registrations = registrations
        self.ranks: list[Any] = []
        self.averager: GradientAverager | None = None
        self.checked_updates = 0
        self._joined = False

    def start(self) -> None:
        """Create the other ranks and form the process group (nothing to do for one rank)."""
        if self.world_size == 1:
            return
        on_gpu = self.learner.device.type == "cuda"
        remote = ray.remote(LearnerRank).options(num_cpus=1, num_gpus=1 if on_gpu else 0, max_restarts=0)
        obs_space, action_space = self.spaces
        self.ranks = [
            remote.remote(self.cfg, rank, obs_space, action_space, self.registrations)
            for rank in range(1, self.world_size)
        ]
        ray.get([rank.pid.remote() for rank in self.ranks], timeout=_START_TIMEOUT_S)  # placed and built
        address = rendezvous_address()
        init_method = f"tcp://{address}:{free_port(address)}"
        state = ray.put(self.learner.checkpoint_state())
        joins = [rank.join.remote(init_method, state) for rank in self.ranks]
        init_process_group(init_method, 0, self.world_size, self.learner.device, self.cfg.learner_rank_timeout_sec)
        self._joined = True
        versions = ray.get(joins)
        self.averager = GradientAverager(self.learner.actor_critic, self.world_size)
        self.learner.after_backward = self.averager
        log.info(
            "Learner group: %d ranks (%s) at %s, all at policy version %s",
            self.world_size,
            "nccl" if self.learner.device.type == "cuda" else "gloo",
            init_method,
            versions,
        )

    def train(self, shares: Sequence[Sequence[Any]], env_steps: int) -> dict[str, float]:
        """One training step: ``shares[r]`` are the payload references of rank ``r``'s rollouts.

        Returns:
            rank 0's training statistics.
        """
        if self.world_size == 1:
            return self.learner.train(to_batch(ray.get(list(shares[0]))), env_steps=env_steps)
        assert self.averager is not None
        refs = [rank.train.remote(env_steps, *share) for rank, share in zip(self.ranks, shares[1:], strict=True)]
        batch = to_batch(ray.get(list(shares[0])))
        try:
            stats, digests = train_rank(self.learner, self.averager, batch, env_steps)
            results = ray.get(refs, timeout=self.cfg.learner_rank_timeout_sec)
        except (RuntimeError, RayActorError, ray.exceptions.GetTimeoutError) as exc:
            raise LearnerRankLost(self._who_is_lost(refs, exc)) from exc
        for rank, result in enumerate(results, start=1):
            if result["digests"] != digests:
                raise RanksDiverged(
                    f"learner rank {rank}'s weights differ from rank 0's after policy version "
                    f"{self.learner.policy_version}"
                )
        self.checked_updates += len(digests)
        return stats

    def _who_is_lost(self, refs: list[Any], exc: Exception) -> str:
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=5.0)
        for rank, ref in enumerate(refs, start=1):
            if ref in ready:
                try:
                    ray.get(ref)
                except Exception as rank_exc:
                    first = str(rank_exc).strip().splitlines()[0] if str(rank_exc).strip() else ""
                    return f"learner rank {rank} was lost ({type(rank_exc).__name__}: {first})"
        return f"the learner group failed: {type(exc).__name__}: {exc}"

    def stop(self) -> None:
        """Leave the process group and kill the other ranks."""
        self.learner.after_backward = None
        for rank in self.ranks:
            ray.kill(rank, no_restart=True)
        self.ranks = []
        if self._joined:
            leave_process_group()
            self._joined = False
