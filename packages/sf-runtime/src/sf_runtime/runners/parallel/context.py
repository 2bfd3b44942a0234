"""What a child process of the parallel runner receives at start: one picklable bundle, and the message codes.

Messages are small tuples of ints (pickled by faster-fifo); observations and policy outputs never travel in them.

- policy queue (one per policy, read by its inference workers): ``(worker, split, buffer, t, incarnation)``, "the
  observations of slot (worker, split, buffer) at time t are ready" (``incarnation``: see
  :mod:`~sf_runtime.runners.parallel.slot_ownership`; requests of an older incarnation of the worker are dropped).
- worker queue (one per rollout worker): ``(MSG_ACTIONS, policy, [(split, buffer, t, incarnation), ...])`` from
  inference (the requests it served: a worker acts only on the answer to its current request), ``(MSG_FREE, split,
  buffer)`` from a learner that gave a slot back (it lowered its "held" flag first).
- learner queue (one per policy): ``(MSG_TRAJECTORY, worker, split, buffer)`` from rollout workers,
  ``(MSG_STATE_REQUEST,)`` from the main process (reply: checkpoint bytes on the learner's pipe), and with PBT
  ``(MSG_PBT, hyperparameters, copy_weights_from)`` (:mod:`.pbt_link`).
- with PBT, also on the worker queue: ``(MSG_REWARD_SHAPING, policy, scheme)`` from the main process.
- stats queue (to the main process): the named records of :mod:`.reports` (episodes and frames from rollout
  workers, training steps from learners, env failures, the traceback of any child that failed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sf_runtime.registrations import Registrations
from sf_runtime.runners.parallel.heartbeat import Component
from sf_runtime.runners.parallel.trajectories import StepFormat, TrajectorySpecs
from sf_runtime.runners.policy_mapping import initial_policies

MSG_ACTIONS = 0
MSG_FREE = 1
MSG_TRAJECTORY = 2
MSG_STATE_REQUEST = 3
MSG_PBT = 4
MSG_REWARD_SHAPING = 5


@dataclass
class RunContext:
    """Everything shared by the processes of one parallel run.

    Attributes:
        cfg: the resolved configuration.
        obs_space: per-agent observation space (Dict).
        action_space: per-agent action space.
        num_agents: agents per env.
        frameskip: env frames per agent step (for frame counts).
        step_format: shapes of the policy outputs.
        trajectories: shared trajectory buffers.
        weights: per policy, the handle of its shared weight slot.
        run_state: handle of heartbeats and control flags.
        components: every child process, in heartbeat-index order.
        policy_queues: per policy, the inference request queue.
        worker_queues: per rollout worker, one inbox per incarnation (``worker_queues[w][incarnation]``): a
            replacement worker uses a fresh one, because a process killed while it waited on a queue leaves that
            queue's process-shared condition variable unusable for the next waiter.
        learner_queues: per policy, the learner's inbox.
        stats_queue: to the main process.
        registrations: the main process's registered envs and model factories, restored first in every child.
        log_level: logging level for children.
        slots: handle of the shared slot-ownership flags and worker incarnations (``SlotOwnership.handle``).
        pbt: with PBT, every policy's current ``{"hyperparameters", "reward_shaping"}`` (:mod:`.pbt_link`), else None.
    """

    cfg: Any
    obs_space: Any
    action_space: Any
    num_agents: int
    frameskip: int
    step_format: StepFormat
    trajectories: TrajectorySpecs
    weights: list[Any]
    run_state: Any
    components: list[Component]
    policy_queues: list[Any]
    worker_queues: list[list[Any]]
    learner_queues: list[Any]
    stats_queue: Any
    registrations: Registrations = field(default_factory=Registrations)
    log_level: int = 20
    slots: Any = None
    pbt: dict[int, dict[str, Any]] | None = None

    def component_index(self, role: str, index: int) -> int:
        """Heartbeat index of a component."""
        for i, comp in enumerate(self.components):
            if comp.role == role and comp.index == index:
                return i
        raise KeyError(f"no component {role} {index}")


def policy_of_rows(cfg: Any, num_agents: int, worker: int, split: int) -> np.ndarray:
    """The policy of every row (agent) of one split at the start of a run, and in sync mode throughout.

    See :mod:`~sf_runtime.runners.policy_mapping`: the global env index (or, when agents of one env are mapped one by
    one, the global agent index) modulo ``num_policies``. With one policy every row maps to 0.

    Returns:
        int64 array of ``rows_per_split`` policy ids.
    """
    envs_per_split = cfg.num_envs_per_worker // cfg.worker_num_splits
    first_env = worker * cfg.num_envs_per_worker + split * envs_per_split
    return initial_policies(cfg, num_agents, first_env, envs_per_split)
