"""The inference worker process: batched forward passes of one policy for every pending request.

Each iteration takes all pending requests ``(w, s, k, t, incarnation)`` of its policy's queue at once (dropping
those of a rollout worker that died and was replaced since, see :mod:`.slot_ownership`), turns
them into one index tensor over the flat ``[rows * time]`` view of the trajectory buffers (only the rows that this
policy controls, as the slot's ``policy_id`` rows say), gathers observations and recurrent states with one
``index_select`` per array, runs one forward pass, scatters actions, log-probabilities, distribution parameters,
values, versions and next recurrent states back with one ``index_copy_`` per array, and sends each rollout worker
one message naming the requests that were served. Before each batch it picks up new weights when the learner's
published version moved.
"""

from __future__ import annotations

import logging
import queue
import time
import traceback
from collections import defaultdict

import torch

from sf_runtime.runners.parallel.context import MSG_ACTIONS, RunContext
from sf_runtime.runners.parallel.heartbeat import STOP_SAMPLING, RunState
from sf_runtime.runners.parallel.process_setup import setup_child_process
from sf_runtime.runners.parallel.reports import ChildError
from sf_runtime.runners.parallel.slot_ownership import SlotOwnership
from sf_runtime.runners.parallel.trajectories import TrajectoryBuffers
from sf_runtime.runners.parallel.weights import WeightSlot
from sf_runtime.torch_setup import torch_device

log = logging.getLogger(__name__)

_POLL_SEC = 0.1


class InferenceWorker:
    """The loop of one inference worker of one policy.

    Args:
        ctx: the run context.
        policy_id: the policy served.
        index: the worker's index among its policy's inference workers.
    """

    def __init__(self, ctx: RunContext, policy_id: int, index: int) -> None:
        from sf_runtime.model import create_actor_critic
        from sf_runtime.model.compile import compile_actor_critic, compiles_in

        self.ctx = ctx
        self.policy_id = policy_id
        cfg = ctx.cfg
        self.state = RunState(ctx.run_state)
        self.beat_index = ctx.component_index("inference_worker", policy_id * cfg.policy_workers_per_policy + index)
        self.buffers = TrajectoryBuffers(ctx.trajectories)
        self.layout = layout = ctx.trajectories.layout
        self.weights = WeightSlot(ctx.weights[policy_id])
        self.device = torch_device(cfg)
        self.model = create_actor_critic(cfg, ctx.obs_space, ctx.action_space).to(self.device)
        self.model.eval()
        if compiles_in(getattr(cfg, "torch_compile", "off"), "inference"):
            compile_actor_critic(self.model, self.device)
        self.version = -1
        self.queue = ctx.policy_queues[policy_id]
        self.incarnations = SlotOwnership(ctx.slots).incarnations
        # Which rows of a slot are this policy's: read from the slot's policy_id rows (the rollout worker writes them
        # when it starts the slot); cached per (w, s, k, t) only when the mapping never changes.
        self.row_policy = self.buffers.t["policy_id"]
        self.cache_indices = not (cfg.async_rl and cfg.num_policies > 1)
        self.t_obs = layout.rollout + 1
        self.t_rnn = layout.rollout + 2
        self.flat_obs = {key: self.buffers.flat(f"obs/{key}") for key in self.buffers.obs_keys}
        self.flat_rnn = self.buffers.flat("rnn_states")
        self.flat_out = {
            key: self.buffers.flat(key) for key in ("actions", "log_prob_actions", "action_logits", "values")
        }
        self.flat_version = self.buffers.flat("policy_version")
        self.samples = 0
        self._index_cache: dict[tuple[int, int, int, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def _indices(self, w: int, s: int, k: int, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat indices of this policy's rows of slot (w, s, k) at time t, in the obs and in the rnn-state arrays."""
        key = (w, s, k, t)
        cached = self._index_cache.get(key)
        if cached is None:
            base = self.layout.slot_base(w, s, k)
            rows = torch.nonzero(self.row_policy[base : base + self.layout.rows_per_split] == self.policy_id)
            rows = rows.flatten() + base
            cached = (rows * self.t_obs + t, rows * self.t_rnn + t)
            if self.cache_indices:
                self._index_cache[key] = cached
        return cached

    @torch.inference_mode()  # cheaper than no_grad for the many small batches of non-batched sampling
    def _serve(self, requests: list[tuple[int, int, int, int, int]]) -> None:
        current = self.incarnations
        requests = [req for req in requests if req[4] == current[req[0]]]  # not those of a dead worker
        if not requests:
            return
        if len(requests) == 1:
            idx, rnn_idx = self._indices(*requests[0][:4])
        else:
            pairs = [self._indices(*req[:4]) for req in requests]
            idx = torch.cat([p[0] for p in pairs])
            rnn_idx = torch.cat([p[1] for p in pairs])
        dev = self.device
        obs = {key: flat.index_select(0, idx).to(dev, non_blocking=True) for key, flat in self.flat_obs.items()}
        rnn = self.flat_rnn.index_select(0, rnn_idx).to(dev)
        out = self.model(self.model.normalize_obs(obs), rnn)
        for key, flat in self.flat_out.items():
            value = out[key].to("cpu")
            flat.index_copy_(0, idx, value.reshape(value.shape[0], *flat.shape[1:]).to(flat.dtype))
        self.flat_rnn.index_copy_(0, rnn_idx + 1, out["new_rnn_states"].to("cpu", torch.float32))
        self.flat_version.index_fill_(0, idx, self.version)
        self.samples += int(idx.shape[0])
        served: dict[tuple[int, int], list[tuple[int, int, int, int]]] = defaultdict(list)
        for w, s, k, t, incarnation in requests:
            served[(w, incarnation)].append((s, k, t, incarnation))
        for (w, incarnation), answers in served.items():
            self.ctx.worker_queues[w][incarnation].put((MSG_ACTIONS, self.policy_id, answers))

    def run(self) -> None:
        """Serve requests until the main process raises STOP_SAMPLING."""
        while self.weights.version < 0:  # the learner publishes its first weights after loading its checkpoint
            if self.state.is_set(STOP_SAMPLING):
                return
            self.state.beat(self.beat_index)
            time.sleep(0.01)
        self.version = self.weights.pull(self.model, self.version)
        while self.state.keep_running(STOP_SAMPLING):
            try:
                requests = self.queue.get_many(block=True, timeout=_POLL_SEC)
            except queue.Empty:
                requests = None
            if requests:
                self.version = self.weights.pull(self.model, self.version)
                self._serve(requests)
            self.state.beat(self.beat_index)


def inference_worker_main(ctx: RunContext, policy_id: int, index: int) -> None:
    """Entry point of an inference worker process."""
    cfg = ctx.cfg
    try:
        setup_child_process(
            niceness=int(cfg.default_niceness or 0),
            single_thread=True,
            registrations=ctx.registrations,
            log_level=ctx.log_level,
        )
        InferenceWorker(ctx, policy_id, index).run()
    except BaseException:
        ctx.stats_queue.put(ChildError(f"inference_worker p{policy_id}#{index}", traceback.format_exc()))
        raise SystemExit(1) from None
