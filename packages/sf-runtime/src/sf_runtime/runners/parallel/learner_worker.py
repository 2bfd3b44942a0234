"""The learner process of one policy in the parallel runner.

It receives slot coordinates of finished trajectories, gathers whole trajectories of its own agents out of the
shared buffers into a training batch, trains, and publishes the new weights with their version:

- async (``async_rl=True``): as soon as ``batch_size * num_batches_per_epoch`` samples are waiting it gathers them
  (taking part of a slot when needed), gives every fully gathered slot back to its rollout worker at once, and
  trains while the workers keep sampling into their other slots. How much experience can wait is bounded by the
  number of slots (sized from ``num_batches_to_accumulate``); samples older than ``max_policy_lag`` versions are
  masked by the learner's loss. With several policies (mapped at random, see
  :mod:`~sf_runtime.runners.policy_mapping`) a learner that holds a ``1/num_policies`` share of all slots trains on
  what it has, so that the slots can never all be held by learners that wait for more.
- sync: it waits for one slot of every split (one rollout of every env), trains on all of them, publishes, and only
  then gives the slots back, so every sample of every batch comes from the current weights (policy lag 0).

It also answers the main process's requests for its checkpoint state (over a pipe, as ``torch.save`` bytes).
"""

from __future__ import annotations

import io
import logging
import queue
import traceback
from collections import deque
from typing import Any

import torch

from sf_runtime.runners.parallel.context import (
    MSG_FREE,
    MSG_PBT,
    MSG_STATE_REQUEST,
    MSG_TRAJECTORY,
    RunContext,
    policy_of_rows,
)
from sf_runtime.runners.parallel.heartbeat import STOP_ALL, RunState
from sf_runtime.runners.parallel.process_setup import setup_child_process
from sf_runtime.runners.parallel.reports import ChildError, PbtAppliedReport, PolicyLag, TrainReport
from sf_runtime.runners.parallel.slot_ownership import SlotOwnership
from sf_runtime.runners.parallel.trajectories import TrajectoryBuffers
from sf_runtime.runners.parallel.weights import WeightSlot
from sf_runtime.torch_setup import keep_freed_memory, torch_device

log = logging.getLogger(__name__)

_POLL_SEC = 0.1


def state_to_bytes(obj: Any) -> bytes:
    """Serialize a checkpoint state (tensors and plain values) for the pipe."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def state_from_bytes(data: bytes) -> Any:
    """Inverse of :func:`state_to_bytes` (safe loading: tensors and plain values only)."""
    return torch.load(io.BytesIO(data), weights_only=True)


class _PendingSlot:
    """A finished slot waiting to be trained on: its absolute rows of this policy and how many were taken."""

    __slots__ = ("buffer", "rows", "split", "taken", "worker")

    def __init__(self, worker: int, split: int, buffer: int, rows: torch.Tensor) -> None:
        self.worker, self.split, self.buffer, self.rows = worker, split, buffer, rows
        self.taken = 0


class LearnerProcess:
    """The loop of one policy's learner process.

    Args:
        ctx: the run context.
        policy_id: the policy trained.
        initial_state: serialized learner state to resume from (from the latest checkpoint), or None.
        conn: the pipe end on which checkpoint states are sent to the main process.
    """

    def __init__(self, ctx: RunContext, policy_id: int, initial_state: bytes | None, conn: Any) -> None:
        from sf_runtime.learning import Learner

        self.ctx = ctx
        self.cfg = cfg = ctx.cfg
        self.policy_id = policy_id
        self.conn = conn
        self.state = RunState(ctx.run_state)
        self.beat_index = ctx.component_index("learner", policy_id)
        self.buffers = TrajectoryBuffers(ctx.trajectories)
        layout = self.layout = ctx.trajectories.layout
        self.weights = WeightSlot(ctx.weights[policy_id])
        self.learner = Learner(cfg, ctx.obs_space, ctx.action_space, policy_id=policy_id, device=torch_device(cfg))
        if initial_state is not None:
            self.learner.load_checkpoint_state(state_from_bytes(initial_state))
        if ctx.pbt is not None:  # every slot is mapped now: the segments are unlinked once all children started
            self.all_weights = [WeightSlot(handle) for handle in ctx.weights]
            self._on_pbt(ctx.pbt[policy_id]["hyperparameters"], None)
        self.inbox = ctx.learner_queues[policy_id]
        self.slots = SlotOwnership(ctx.slots)
        self.async_rl = bool(cfg.async_rl)
        self.row_policy = self.buffers.t["policy_id"]
        # Sync mode (fixed mapping): one round is one slot of every split that has rows of this policy.
        self.slots_per_round = sum(
            bool((policy_of_rows(cfg, ctx.num_agents, w, s) == policy_id).any())
            for w in range(layout.num_workers)
            for s in range(layout.num_splits)
        )
        self.trajectories_per_batch = max(1, (cfg.batch_size * cfg.num_batches_per_epoch) // layout.rollout)
        # Async with several policies, the mapping is redrawn at random, so a policy's share of a slot varies: when
        # every slot of the run is held, some policy holds at least a 1/num_policies share of them. A learner that
        # holds that many trains on what it has (a smaller batch) rather than keep the workers waiting for slots.
        total_slots = layout.num_workers * layout.num_splits * layout.buffers_per_split
        dynamic = self.async_rl and int(cfg.num_policies) > 1
        self.flush_at_slots = max(1, total_slots // int(cfg.num_policies)) if dynamic else None
        self.min_flush_rows = -(-int(cfg.num_batches_per_epoch) * int(cfg.recurrence) // layout.rollout)
        self.pending: deque[_PendingSlot] = deque()
        self.pending_rows = 0

    def _receive(self, msg: tuple) -> None:
        if msg[0] == MSG_TRAJECTORY:
            _, w, s, k = msg
            base = self.layout.slot_base(w, s, k)
            rows = torch.nonzero(self.row_policy[base : base + self.layout.rows_per_split] == self.policy_id)
            rows = rows.flatten() + base
            self.pending.append(_PendingSlot(w, s, k, rows))
            self.pending_rows += len(rows)
        elif msg[0] == MSG_STATE_REQUEST:
            payload = {"state": self.learner.checkpoint_state(), "policy_version": int(self.learner.policy_version)}
            self.conn.send_bytes(state_to_bytes(payload))
        elif msg[0] == MSG_PBT:
            self._on_pbt(msg[1], msg[2])

    def _on_pbt(self, hyperparameters: dict[str, float], copy_weights_from: int | None) -> None:
        """PBT: become a copy of another policy (its published weights) and/or train with new hyperparameters."""
        learner = self.learner
        before = int(learner.policy_version)
        if copy_weights_from is not None:
            self.all_weights[copy_weights_from].pull(learner.actor_critic, have_version=-2)
            learner.adopt_weights(learner.actor_critic.state_dict())
            self.weights.publish(learner.actor_critic, learner.policy_version)
        learner.set_hyperparameters(hyperparameters)
        self.ctx.stats_queue.put(
            PbtAppliedReport(self.policy_id, copy_weights_from, before, int(learner.policy_version), hyperparameters)
        )

    def _release(self, slots: list[_PendingSlot]) -> None:
        for slot in slots:
            # The shared flag first: a worker started in place of a dead one reads the flags, not old messages.
            self.slots.release(slot.worker, slot.split, slot.buffer, self.policy_id)
            inbox = self.ctx.worker_queues[slot.worker][self.slots.incarnation(slot.worker)]
            inbox.put((MSG_FREE, slot.split, slot.buffer))

    def _take(self, num_rows: int) -> tuple[torch.Tensor, list[_PendingSlot]]:
        """Rows of the next ``num_rows`` waiting trajectories, and the slots that were used up."""
        parts, used = [], []
        need = num_rows
        while need > 0:
            slot = self.pending[0]
            n = min(need, len(slot.rows) - slot.taken)
            parts.append(slot.rows[slot.taken : slot.taken + n])
            slot.taken += n
            need -= n
            if slot.taken == len(slot.rows):
                used.append(self.pending.popleft())
        self.pending_rows -= num_rows
        return (torch.cat(parts) if len(parts) > 1 else parts[0]), used

    def _train_batch(self, batch: dict[str, Any]) -> None:
        learner = self.learner
        lag = (learner.policy_version - batch["policy_version"])[batch["valids"]]
        if lag.numel() == 0:
            lag = torch.zeros(1, dtype=torch.int64)
        train_stats = learner.train(batch)
        self.weights.publish(learner.actor_critic, learner.policy_version)
        samples = int(batch["valids"].sum())
        self.ctx.stats_queue.put(
            TrainReport(
                policy_id=self.policy_id,
                samples=samples,
                policy_version=int(learner.policy_version),
                lag=PolicyLag(int(lag.min()), float(lag.sum()), int(lag.max()), int(lag.numel())),
                stats={k: float(v) for k, v in (train_stats or {}).items()},
            )
        )

    def _maybe_train(self) -> None:
        if self.async_rl:
            while self.pending_rows >= self.trajectories_per_batch:
                rows, used = self._take(self.trajectories_per_batch)
                batch = self.buffers.gather_batch(rows)
                self._release(used)  # the copy is made: workers may refill these slots while we train
                self._train_batch(batch)
            flush = self.flush_at_slots
            if flush is not None and len(self.pending) >= flush and self.pending_rows >= self.min_flush_rows:
                rows, used = self._take(self.pending_rows)
                batch = self.buffers.gather_batch(rows)
                self._release(used)
                self._train_batch(batch)
        elif len(self.pending) >= self.slots_per_round:
            rows, used = self._take(self.pending_rows)
            self._train_batch(self.buffers.gather_batch(rows))
            self._release(used)  # only now: the next rollouts start from the new weights

    def run(self) -> None:
        """Publish the initial weights, then train until the main process raises STOP_ALL."""
        self.weights.publish(self.learner.actor_critic, self.learner.policy_version)
        self.state.beat(self.beat_index)
        while self.state.keep_running(STOP_ALL):
            try:
                messages = self.inbox.get_many(block=True, timeout=_POLL_SEC)
            except queue.Empty:
                messages = ()
            for msg in messages:
                self._receive(msg)
            self._maybe_train()
            self.state.beat(self.beat_index)


def learner_main(ctx: RunContext, policy_id: int, initial_state: bytes | None, conn: Any) -> None:
    """Entry point of a learner process."""
    cfg = ctx.cfg
    try:
        setup_child_process(
            niceness=int(cfg.default_niceness or 0),
            single_thread=True,
            registrations=ctx.registrations,
            log_level=ctx.log_level,
        )
        keep_freed_memory()
        LearnerProcess(ctx, policy_id, initial_state, conn).run()
    except BaseException:
        ctx.stats_queue.put(ChildError(f"learner p{policy_id}", traceback.format_exc()))
        raise SystemExit(1) from None
