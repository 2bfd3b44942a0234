"""Sizing and allocating what the processes of a parallel run share, into the :class:`RunContext` each child gets.

From the probed env and the cfg: the components (one learner per policy, ``policy_workers_per_policy`` inference
workers per policy, ``num_workers`` rollout workers), the shapes of the policy outputs (one forward pass of a fresh
model), the trajectory slots (enough for ``num_batches_to_accumulate`` batches in async mode), the weight slots,
heartbeats, slot-ownership flags, and the faster-fifo queues. The shared memory is checked against ``/dev/shm``
(and the disk against the checkpoints) before anything is created.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import faster_fifo
import numpy as np
import torch

from sf_runtime.registrations import snapshot_registrations
from sf_runtime.runners.parallel.context import RunContext
from sf_runtime.runners.parallel.heartbeat import Component, RunState
from sf_runtime.runners.parallel.shared_memory import SharedArena
from sf_runtime.runners.parallel.shm_guard import check_shm_budget, sweep_stale_segments
from sf_runtime.runners.parallel.slot_ownership import SlotOwnership
from sf_runtime.runners.parallel.trajectories import StepFormat, TrajectoryLayout, allocate_trajectories
from sf_runtime.runners.parallel.weights import WeightSlot
from sf_runtime.storage import check_checkpoint_space

log = logging.getLogger(__name__)

MAX_WORKER_REPLACEMENTS = 3
"""How many times a rollout worker index may be replaced after its process died, over the run."""

_QUEUE_BYTES = 4 * 1024 * 1024
_SPARE_INBOX_BYTES = 256 * 1024  # the inboxes of replacement workers (a few small messages at a time)


def run_components(cfg: Any) -> list[Component]:
    """Every child process of the run, in heartbeat-index order: learners, inference workers, rollout workers."""
    comps = [Component("learner", p, f"learner p{p}") for p in range(cfg.num_policies)]
    for p in range(cfg.num_policies):
        for i in range(cfg.policy_workers_per_policy):
            comps.append(
                Component("inference_worker", p * cfg.policy_workers_per_policy + i, f"inference_worker p{p}#{i}")
            )
    comps += [Component("rollout_worker", w, f"rollout_worker {w}") for w in range(cfg.num_workers)]
    return comps


def buffers_per_split(cfg: Any, rows_per_split: int, num_policies: int) -> int:
    """Slots per split: one in sync mode; in async mode enough for ``num_batches_to_accumulate`` batches."""
    if not cfg.async_rl:
        return 1
    samples_per_batch = cfg.batch_size * cfg.num_batches_per_epoch * num_policies
    samples_per_slot_set = cfg.num_workers * cfg.worker_num_splits * rows_per_split * cfg.rollout
    return max(2, math.ceil(cfg.num_batches_to_accumulate * samples_per_batch / samples_per_slot_set) + 1)


def step_format(cfg: Any, obs_space: Any, action_space: Any) -> tuple[StepFormat, torch.nn.Module]:
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


def _new_queue(size: int = _QUEUE_BYTES) -> faster_fifo.Queue:
    return faster_fifo.Queue(max_size_bytes=size)


def build_context(
    cfg: Any, info: Any, arena: SharedArena, components: list[Component]
) -> tuple[RunContext, RunState, SlotOwnership]:
    """Allocate the run's shared memory in ``arena`` and make its queues.

    Args:
        cfg: the run's configuration.
        info: the probed env (:class:`~sf_runtime.envs.EnvInfo`).
        arena: where the shared segments are created (the main process unlinks them once every child started).
        components: the children (:func:`run_components`).

    Returns:
        The context every child receives, and the main process's views of the heartbeats and the slot flags.
    """
    sweep_stale_segments()
    num_agents = int(info.num_agents)
    fmt, model = step_format(cfg, info.obs_space, info.action_space)
    check_checkpoint_space(cfg, sum(t.numel() * t.element_size() for t in model.state_dict().values()))
    rows_per_split = cfg.num_envs_per_worker // cfg.worker_num_splits * num_agents
    layout = TrajectoryLayout(
        num_workers=cfg.num_workers,
        num_splits=cfg.worker_num_splits,
        rows_per_split=rows_per_split,
        buffers_per_split=buffers_per_split(cfg, rows_per_split, cfg.num_policies),
        rollout=cfg.rollout,
    )

    def allocate(arena: Any) -> tuple[Any, list[Any], RunState, SlotOwnership]:
        trajectories = allocate_trajectories(arena, layout, info.obs_space, fmt)
        weights = [WeightSlot.allocate(arena, model).handle for _ in range(cfg.num_policies)]
        state = RunState.allocate(arena, len(components))
        return trajectories, weights, state, SlotOwnership.allocate(arena, layout, cfg.num_policies)

    check_shm_budget(cfg, allocate)  # sized by the same code, before anything is created
    trajectories, weights, state, slots = allocate(arena)
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
    ctx = RunContext(
        cfg=cfg,
        obs_space=info.obs_space,
        action_space=info.action_space,
        num_agents=num_agents,
        frameskip=int(getattr(info, "frameskip", 1) or 1),
        step_format=fmt,
        trajectories=trajectories,
        weights=weights,
        run_state=state.handle,
        components=components,
        policy_queues=[_new_queue() for _ in range(cfg.num_policies)],
        # one inbox per incarnation: a replacement cannot wait on the queue its killed predecessor waited on
        worker_queues=[
            [_new_queue()] + [_new_queue(_SPARE_INBOX_BYTES) for _ in range(MAX_WORKER_REPLACEMENTS)]
            for _ in range(cfg.num_workers)
        ],
        learner_queues=[_new_queue() for _ in range(cfg.num_policies)],
        stats_queue=_new_queue(),
        registrations=snapshot_registrations(cfg.env),
        log_level=logging.getLogger().getEffectiveLevel() or logging.INFO,
        slots=slots.handle,
    )
    return ctx, state, slots
