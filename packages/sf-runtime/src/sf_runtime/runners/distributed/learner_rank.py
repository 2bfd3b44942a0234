"""The body of a learner rank other than 0: a Ray actor that trains its share of each batch in the learner group.

Rank 0 is the run's own process (:mod:`.learner_group`); ranks ``1..learner_world_size-1`` are
:class:`LearnerRank` actors. Each joins the torch.distributed group, loads the state rank 0 started from (weights,
optimizer, versions: restored from a checkpoint when resuming), then trains when the driver hands it its share.
This module does not import Ray: the shares arrive as payloads that Ray resolved from the object store.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from sf_runtime.learning import Learner
from sf_runtime.registrations import Registrations
from sf_runtime.runners.distributed.ddp import (
    GradientAverager,
    init_process_group,
    leave_process_group,
    train_rank,
)
from sf_runtime.runners.distributed.rollouts import to_batch
from sf_runtime.torch_setup import keep_freed_memory, torch_device


class LearnerRank:
    """One rank of the learner group.

    Args:
        cfg: the run's configuration.
        rank: this rank (>= 1).
        obs_space, action_space: the env's spaces (as the sampler actors reported them).
        registrations: the driver's registered envs and model parts.
    """

    def __init__(self, cfg: Any, rank: int, obs_space: Any, action_space: Any, registrations: Registrations) -> None:
        registrations.restore()
        torch.set_num_threads(1)
        self.cfg = cfg
        self.rank = rank
        keep_freed_memory()
        self.device = torch_device(cfg)
        self.learner = Learner(cfg, obs_space, action_space, policy_id=0, device=self.device)
        self.averager = GradientAverager(self.learner.actor_critic, int(cfg.learner_world_size))
        self.learner.after_backward = self.averager

    def pid(self) -> int:
        """This process's id."""
        return os.getpid()

    def join(self, init_method: str, state: Mapping[str, Any]) -> int:
        """Join the process group (blocks until every rank did) and load rank 0's starting state."""
        init_process_group(
            init_method, self.rank, int(self.cfg.learner_world_size), self.device, self.cfg.learner_rank_timeout_sec
        )
        self.learner.load_checkpoint_state(dict(state))
        return self.learner.policy_version

    def train(self, env_steps: int, *payloads: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """Train on this rank's share (the payloads of whole rollouts) together with the other ranks.

        Returns:
            ``{"digests": [...], "policy_version": v}`` (see :func:`~.ddp.train_rank`).
        """
        _stats, digests = train_rank(self.learner, self.averager, to_batch(payloads), env_steps)
        return {"digests": digests, "policy_version": self.learner.policy_version}

    def leave(self) -> None:
        """Leave the process group."""
        leave_process_group()
