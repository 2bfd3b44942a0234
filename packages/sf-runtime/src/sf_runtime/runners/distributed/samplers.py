"""The sampler actors of a distributed run: placement, requests, restarts, and stopping them.

Each sampler is a Ray actor (:class:`~.sampler_actor.SamplerActor`) created with ``max_restarts =
max_sampler_restarts`` and spread over the cluster's nodes. The driver keeps ``depth`` collect calls queued per
actor (2 in async mode: the actor starts the next rollout as soon as one is done, while the learner trains; 1 in
sync mode). A call's results are the rollout's payloads (one piece per learner rank), left in the object store until the
ranks take them, and a small ``info`` dict that the driver reads.

When an actor dies (SIGKILL, lost node) its queued calls fail with ``ActorDiedError``; Ray restarts it (``__init__``
again, on any node with room) and the driver queues new calls with the current weights. Calls that reach it while
it restarts fail with ``ActorUnavailableError`` and are sent again after a short pause (the calls that were running
when a process was killed may fail that way too). Every restart counts once against ``max_sampler_restarts``: at
the ``ActorDiedError`` of a call to the current incarnation, or else when a rollout comes from a new process of the
actor. One death more than the budget (Ray no longer restarts the actor, calls to it fail at once) fails the run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError

from sf_runtime.errors import SetupError
from sf_runtime.registrations import Registrations
from sf_runtime.runners.distributed.sampler_actor import SamplerActor

log = logging.getLogger(__name__)

# How long the actors may take to be placed and to create their envs before the run gives up.
_START_TIMEOUT_S = 300.0
# A call that found its actor restarting is sent again after this pause.
_RETRY_PAUSE_S = 0.5


class SamplerLost(RuntimeError):
    """A sampler actor died more often than ``max_sampler_restarts`` allows."""


@dataclass
class Rollout:
    """A finished rollout: where its payload is, and what the driver needs to know about it."""

    actor: int
    payloads: list[Any]  # ray.ObjectRef of each learner rank's piece of the rollout
    info: dict[str, Any]


@dataclass
class _Call:
    actor: int
    incarnation: int
    payloads: list[Any]


class SamplerPool:
    """The run's sampler actors.

    Args:
        cfg: the run's configuration (``num_sampler_actors``, ``sampler_actor_cpus``, ``max_sampler_restarts``).
        registrations: what the actors restore before making envs and models.
        depth: collect calls kept queued per actor.
        pieces: each rollout comes back as this many payloads (one per learner rank).
    """

    def __init__(self, cfg: Any, registrations: Registrations, depth: int, pieces: int = 1) -> None:
        self.cfg = cfg
        self.depth = depth
        self.pieces = pieces
        self.max_restarts = int(cfg.max_sampler_restarts)
        remote = ray.remote(SamplerActor).options(
            num_cpus=float(cfg.sampler_actor_cpus),
            max_restarts=self.max_restarts,
            max_task_retries=0,
            scheduling_strategy="SPREAD",
        )
        threads = max(1, int(cfg.sampler_actor_cpus))
        self.actors = [remote.remote(cfg, i, registrations, threads) for i in range(cfg.num_sampler_actors)]
        self.restarts = [0] * len(self.actors)
        self.incarnation = [0] * len(self.actors)
        self.sent_version = [-1] * len(self.actors)
        self.retry_at = [0.0] * len(self.actors)
        self.pids: list[int | None] = [None] * len(self.actors)
        self.death_counted = [False] * len(self.actors)  # a death counted and no rollout of the new process yet
        self.calls: dict[Any, _Call] = {}  # info ref -> call

    def describe(self) -> list[dict[str, Any]]:
        """Wait for every actor to be placed and to create its envs; returns their descriptions."""
        refs = [actor.describe.remote() for actor in self.actors]
        try:
            return ray.get(refs, timeout=_START_TIMEOUT_S)
        except GetTimeoutError as exc:
            raise SetupError(
                f"the {len(self.actors)} sampler actors were not all placed within {_START_TIMEOUT_S:.0f} s: they ask "
                f"for {self.cfg.sampler_actor_cpus:g} CPU each and the cluster has {ray.cluster_resources()}; "
                "lower num_sampler_actors or sampler_actor_cpus, or add nodes"
            ) from exc

    def submit(self, actor: int, version: int, weights: Any) -> None:
        """Queue a collect call; the weights travel only when this actor's incarnation does not have them yet."""
        send = weights if self.sent_version[actor] != version else None
        *payloads, info = (
            self.actors[actor].collect.options(num_returns=self.pieces + 1).remote(version, send, self.pieces)
        )
        self.sent_version[actor] = version
        self.calls[info] = _Call(actor, self.incarnation[actor], payloads)

    def fill(self, version: int, weights: Any) -> None:
        """Queue calls until every actor has ``depth`` of them."""
        queued = [0] * len(self.actors)
        for call in self.calls.values():
            queued[call.actor] += 1
        now = time.monotonic()
        for actor, count in enumerate(queued):
            if now < self.retry_at[actor]:
                continue
            for _ in range(self.depth - count):
                self.submit(actor, version, weights)

    @property
    def in_flight(self) -> int:
        """Collect calls not answered yet."""
        return len(self.calls)

    def ready(self, timeout: float) -> list[Rollout]:
        """The rollouts finished within ``timeout`` seconds (calls of dead actors are dropped and counted)."""
        if not self.calls:
            return []
        done, _ = ray.wait(list(self.calls), num_returns=len(self.calls), timeout=timeout)
        rollouts = []
        for ref in done:
            call = self.calls.pop(ref)
            try:
                info = ray.get(ref)
            except ActorUnavailableError:  # dying or restarting: send it again a little later
                self.sent_version[call.actor] = -1
                self.retry_at[call.actor] = time.monotonic() + _RETRY_PAUSE_S
                continue
            except RayActorError as exc:
                self._lost(call, exc)
                continue
            self._check_pid(call.actor, info["pid"])
            rollouts.append(Rollout(call.actor, call.payloads, info))
        return rollouts

    def _lost(self, call: _Call, exc: Exception) -> None:
        """A call failed because its actor died (``ActorDiedError``): count the death once."""
        actor = call.actor
        if call.incarnation != self.incarnation[actor]:
            return  # a call to an incarnation already counted as dead
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        self._count_restart(actor, f"died: {reason}")
        self.death_counted[actor] = True

    def _check_pid(self, actor: int, pid: int) -> None:
        """A rollout from a new process of an actor: Ray restarted it (counted here unless its death was)."""
        previous, self.pids[actor] = self.pids[actor], pid
        if previous is None or previous == pid:
            return
        if not self.death_counted[actor]:
            self._count_restart(actor, f"was restarted by Ray (pid {previous} -> {pid})")
        self.death_counted[actor] = False
        log.info("Sampler actor %d is back (pid %d)", actor, pid)

    def _count_restart(self, actor: int, what: str) -> None:
        self.incarnation[actor] += 1
        self.restarts[actor] += 1
        self.sent_version[actor] = -1  # the restarted actor has no weights yet
        if self.restarts[actor] > self.max_restarts:
            raise SamplerLost(
                f"sampler actor {actor} {what}; it died {self.restarts[actor]} times, more than "
                f"max_sampler_restarts={self.max_restarts}"
            )
        log.warning(
            "Sampler actor %d %s (restart %d of max_sampler_restarts=%d)",
            actor,
            what,
            self.restarts[actor],
            self.max_restarts,
        )

    def stop(self) -> None:
        """Kill every actor (no restart) and forget the queued calls."""
        self.calls.clear()
        for actor in self.actors:
            ray.kill(actor, no_restart=True)
