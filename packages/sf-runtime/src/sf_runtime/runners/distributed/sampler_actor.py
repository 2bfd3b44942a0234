"""The body of a sampler actor: sf's own rollout collection on one node, answering one rollout per call.

Ray runs one :class:`SamplerActor` per sampler (see :mod:`.samplers`, which wraps it as a Ray actor with restarts).
It steps ``num_workers * num_envs_per_worker`` envs of the run's env in one env vector with a CPU copy of the policy
(:class:`~sf_runtime.runners.serial_rollouts.SerialRolloutCollector`: one batched forward pass per step), and returns
each finished rollout as a payload of contiguous arrays (:mod:`.rollouts`). New weights come with a call, only when
the learner published a version this actor does not have yet; every stored step carries the version that acted.

This module does not import Ray: Ray resolves the weights' object reference before a call reaches the actor.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from sf_runtime.envs import make_env_vector
from sf_runtime.model.factory import create_actor_critic
from sf_runtime.registrations import Registrations
from sf_runtime.runners.distributed.rollouts import load_arrays, payload_nbytes, split_payload, to_payload
from sf_runtime.runners.serial_rollouts import SerialRolloutCollector
from sf_runtime.torch_setup import seed_everything

# Seeds of different actors differ by this much (env seeds differ through their env ids already).
_SEED_STRIDE = 1_000_003


class SamplerActor:
    """Collects rollouts of the run's env with the latest weights it was given.

    Args:
        cfg: the run's configuration.
        actor_index: this sampler's index; its envs get the env ids of rollout workers ``actor_index * num_workers``
            onwards, so that no two actors share an env seed.
        registrations: the driver's registered envs and model parts, restored before anything is made.
        threads: torch threads of the forward passes (the CPUs Ray reserved for the actor).
    """

    def __init__(self, cfg: Any, actor_index: int, registrations: Registrations, threads: int = 1) -> None:
        registrations.restore()
        torch.set_num_threads(max(1, threads))
        if cfg.seed is not None:
            seed_everything(int(cfg.seed) + _SEED_STRIDE * (actor_index + 1))
        self.cfg = cfg
        self.actor_index = actor_index
        num_envs = cfg.num_workers * cfg.num_envs_per_worker
        self.env_vector = make_env_vector(
            cfg,
            actor_index * cfg.num_workers,
            0,
            num_envs,
            cfg.batched_sampling,
            decorrelate=bool(cfg.decorrelate_envs_on_one_worker),
        )
        obs_space, action_space = self.env_vector.observation_space, self.env_vector.action_space
        self.model = create_actor_critic(cfg, obs_space, action_space)
        self.model.eval()
        self.version = -1
        num_agents = self.env_vector.num_agents_total
        self.collector = SerialRolloutCollector(
            self.env_vector,
            {0: self.model},
            lambda _pid: self.version,
            [0] * num_agents,
            cfg.rollout,
            torch.device("cpu"),
        )

    def describe(self) -> dict[str, Any]:
        """The spaces of the env (for the learner), the number of agents, and where this actor runs."""
        return {
            "obs_space": self.env_vector.observation_space,
            "action_space": self.env_vector.action_space,
            "num_agents": int(self.env_vector.num_agents_total),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }

    def collect(self, version: int, weights: Mapping[str, np.ndarray] | None = None, pieces: int = 1) -> tuple:
        """Load ``weights`` (policy ``version``) when given, then collect one rollout of every agent.

        Args:
            version: the policy version of ``weights``.
            weights: new weights, or None to keep the current ones.
            pieces: the rollout is returned as this many payloads of equal numbers of agents (one per learner rank).

        Returns:
            ``(*payloads, info)``: the rollout as contiguous arrays, and ``info`` with its ``episodes`` (finished
            episodes' statistics), ``num_trajectories``, ``nbytes``, the policy ``version`` that collected it, and
            the actor's ``pid``.
        """
        if weights is not None:
            load_arrays(self.model, weights)
            self.version = int(version)
        trajectories, episodes = self.collector.collect()
        payload = to_payload(trajectories[0])
        info = {
            "episodes": episodes,
            "num_trajectories": int(payload["rewards"].shape[0]),
            "nbytes": payload_nbytes(payload),
            "version": self.version,
            "pid": os.getpid(),
        }
        return (*split_payload(payload, pieces), info)

    def close(self) -> None:
        """Close the envs."""
        self.env_vector.close()
