"""The rollout worker process: steps its envs, writes into the shared trajectory buffers, asks for actions.

A worker owns ``num_envs_per_worker`` envs in ``worker_num_splits`` env vectors (splits). Each split is a small
state machine over its current slot ``k`` and time index ``t``:

1. the observations at ``t`` are in the slot; the worker puts one request ``(w, s, k, t)`` on the inference queue
   of each policy that controls agents of the split;
2. when every such policy answered (``MSG_ACTIONS``), the worker steps the split's env vector with the actions at
   ``t`` and writes rewards, done flags and the observations at ``t + 1``; back to 1;
3. at ``t = T`` the answer carries the bootstrap values: the slot goes to the learners (``MSG_TRAJECTORY``) and the
   split continues in a free slot, whose index 0 is the old slot's index ``T``. In async mode the action already
   computed at ``T`` is reused; in sync mode (one slot per split) the worker waits until the learner has trained
   on the slot and released it, then asks for new actions at index 0 from the updated policy (policy lag 0).

While one split waits for inference the worker steps the other (double buffering with ``worker_num_splits=2``).

With several policies each split keeps a :class:`~sf_runtime.runners.policy_mapping.PolicyMapping` of its rows and
writes it into the slot's ``policy_id`` rows when it starts filling the slot; inference and the learners read it
there. In async mode the mapping may be redrawn at a slot boundary: rows whose policy changed start the new slot
with a zero recurrent state, and index 0 is computed again instead of reusing the action of index ``T``.

Which slots the learners still hold is kept in shared memory (:mod:`~sf_runtime.runners.parallel.slot_ownership`), so a
worker started to replace one that died begins in the slots nobody holds and takes the others as the learners give
them back; it acts only on answers to its own requests (same slot, time index and incarnation).

An env that raises in ``reset`` or ``step`` is reported to the main process (an ``EnvFailureReport`` on the stats queue,
naming the env, its env_id, the worker, the split and the traceback). With ``max_env_failures=0`` the split stops
there and the main process stops the run; otherwise the split's env vector is recreated and the split goes on: the
failed step's transition is masked (``valids`` False, ``dones`` True, reward 0), the recurrent state at the next
step is zero and its observations come from the new envs' reset. The main process counts the failures and stops
the run once there are more than ``max_env_failures``. A worker whose own failures alone exceed that limit recreates
no more envs (the run stops whatever the others saw), so a busy main process that reads the reports late does not
find a worker that went on failing and recreating meanwhile.

With PBT each policy's reward-shaping scheme is set on the env agents (rows) it controls: at start from
``RunContext.pbt``, on a ``MSG_REWARD_SHAPING`` from the main process, and on envs recreated after a failure.

The module is a little over 400 lines: the split state machine, the env-failure path and the inbox are one loop.
"""

from __future__ import annotations

import logging
import queue
import random
import time
import traceback
from typing import Any

import numpy as np

from sf_runtime.envs.failures import describe_env_failure
from sf_runtime.runners.parallel.context import MSG_ACTIONS, MSG_FREE, MSG_REWARD_SHAPING, MSG_TRAJECTORY, RunContext
from sf_runtime.runners.parallel.heartbeat import STOP_SAMPLING, RunState
from sf_runtime.runners.parallel.pbt_link import apply_reward_shaping
from sf_runtime.runners.parallel.process_setup import setup_child_process
from sf_runtime.runners.parallel.reports import ChildError, EnvFailureReport, EpisodesReport
from sf_runtime.runners.parallel.shared_memory import SegmentFds
from sf_runtime.runners.parallel.slot_ownership import SlotOwnership
from sf_runtime.runners.parallel.trajectories import TrajectoryBuffers
from sf_runtime.runners.policy_mapping import PolicyMapping

log = logging.getLogger(__name__)

_STATS_INTERVAL_SEC = 1.0
_POLL_SEC = 0.1


class _Split:
    """One env vector of a worker, the policy of each of its rows, and where it stands in the buffers."""

    def __init__(self, env_vector: Any, mapping: PolicyMapping, free: list[int]) -> None:
        self.env_vector = env_vector
        self.mapping = mapping
        self.policy_of_row = mapping.policy_of_row
        self.policies = mapping.policies
        # A split starts in its first slot that no learner holds; with none (a replacement worker whose
        # predecessor handed every slot over) it waits for one and starts fresh there (reset, no continuation).
        self.free = free
        self.fresh = not free
        self.awaiting_slot = not free
        self.k = free.pop(0) if free else 0
        self.t = 0
        self.prev_k = self.k
        self.awaiting_actions = 0
        self.start_at = 0.0


class RolloutWorker:
    """The loop of one rollout worker process.

    Args:
        ctx: the run context.
        worker_index: this worker's index.
    """

    def __init__(self, ctx: RunContext, worker_index: int) -> None:
        from sf_runtime.envs import make_env_vector

        self.ctx = ctx
        self.cfg = cfg = ctx.cfg
        self.w = worker_index
        self.state = RunState(ctx.run_state)
        self.beat_index = ctx.component_index("rollout_worker", worker_index)
        self.buffers = TrajectoryBuffers(ctx.trajectories)
        self.layout = ctx.trajectories.layout
        self.async_rl = bool(cfg.async_rl)
        self.slots = SlotOwnership(ctx.slots)
        self.incarnation = self.slots.incarnation(worker_index)
        self.inbox = ctx.worker_queues[worker_index][self.incarnation]
        envs_per_split = cfg.num_envs_per_worker // cfg.worker_num_splits
        self.splits: list[_Split] = []
        for s in range(cfg.worker_num_splits):
            vec = make_env_vector(
                cfg,
                worker_index,
                s,
                envs_per_split,
                bool(cfg.batched_sampling),
                decorrelate=bool(cfg.decorrelate_envs_on_one_worker),
            )
            self.state.beat(self.beat_index)  # env creation can be slow; show progress
            mapping = PolicyMapping(
                cfg, ctx.num_agents, worker_index * cfg.num_envs_per_worker + s * envs_per_split, envs_per_split
            )
            self.splits.append(_Split(vec, mapping, self.slots.free_slots(worker_index, s)))
        # PBT: each policy's reward shaping, set again on envs that are recreated or change policy
        self.reward_shaping = {pid: p["reward_shaping"] for pid, p in (ctx.pbt or {}).items()}
        for i in range(len(self.splits)):
            self._apply_reward_shaping(i)
        self.frames = 0
        self.env_failures = 0
        self._reported = False
        # The first episodes of each env are reported as they end, not a second later: at 10k+ FPS a second of
        # sampling is enough for a policy to learn, and the learning curve is to start at the untrained policy's reward.
        self._first_episodes_left = int(cfg.num_envs_per_worker) * int(ctx.num_agents)
        self.episodes: list[tuple[int, dict[str, Any]]] = []
        self._np = self.buffers.np
        self._obs_np = {key: self._np[f"obs/{key}"] for key in self.buffers.obs_keys}
        from sf_runtime.model import actions_to_env

        self._actions_to_env = actions_to_env

    def _apply_reward_shaping(self, s: int) -> None:
        """Set every policy's PBT reward shaping on the agents of split ``s`` it controls."""
        split = self.splits[s]
        for pid, scheme in self.reward_shaping.items():
            apply_reward_shaping(split.env_vector, split.policy_of_row, pid, scheme)

    # ---- the split state machine ---------------------------------------------------------------------------------

    def _rows(self, s: int, k: int) -> slice:
        base = self.layout.slot_base(self.w, s, k)
        return slice(base, base + self.layout.rows_per_split)

    def _request(self, s: int) -> None:
        split = self.splits[s]
        split.awaiting_actions = len(split.policies)
        msg = (self.w, s, split.k, split.t, self.incarnation)
        for p in split.policies:
            self.ctx.policy_queues[p].put(msg)

    def _reset(self, s: int) -> bool:
        """Reset a split's envs into index 0 of its slot; False when they failed and were not recreated."""
        split = self.splits[s]
        self._np["rnn_states"][self._rows(s, split.k), 0] = 0.0
        self._np["policy_id"][self._rows(s, split.k)] = split.policy_of_row
        return self._reset_into(s, 0)

    def _reset_into(self, s: int, t: int) -> bool:
        """Reset a split's envs, writing their observations at index ``t`` of the split's slot.

        A failing reset is reported; with recreation allowed the new envs are reset in turn (until that works or
        the run stops). False when the split cannot go on.
        """
        while True:
            split = self.splits[s]
            rows = self._rows(s, split.k)
            try:
                split.env_vector.reset({key: arr[rows, t] for key, arr in self._obs_np.items()})
                return True
            except Exception as exc:
                if not self._env_failed(s, "reset", exc) or not self.state.keep_running(STOP_SAMPLING):
                    return False
                self.state.beat(self.beat_index)

    def _env_failed(self, s: int, call: str, exc: Exception) -> bool:
        """Report an env exception to the main process; recreate the split's envs while this worker's failures are
        within ``max_env_failures``.

        Returns:
            True when the split has new envs (not reset yet) and can go on.
        """
        from sf_runtime.envs import make_env_vector

        cfg = self.cfg
        split = self.splits[s]
        text = describe_env_failure(
            split.env_vector, call, exc, worker=self.w, split=s, envs_per_worker=int(cfg.num_envs_per_worker)
        )
        recreated = False
        self.env_failures += 1
        if self.env_failures <= int(cfg.max_env_failures or 0):
            try:
                split.env_vector.close()
            except Exception:
                log.debug("closing the failed env vector raised", exc_info=True)
            try:
                envs_per_split = cfg.num_envs_per_worker // cfg.worker_num_splits
                split.env_vector = make_env_vector(
                    cfg,
                    self.w,
                    s,
                    envs_per_split,
                    bool(cfg.batched_sampling),
                    decorrelate=bool(cfg.decorrelate_envs_on_one_worker),
                )
                self._apply_reward_shaping(s)
                recreated = True
            except Exception:
                text += "\nRecreating the split's envs failed:\n" + traceback.format_exc().rstrip()
        self.ctx.stats_queue.put(EnvFailureReport(f"rollout_worker {self.w}", text, recreated))
        return recreated

    def _restart_after_failed_step(self, s: int, rows: slice, t: int) -> None:
        """Mask the failed transition at ``t``, start fresh episodes at ``t + 1`` from the new envs, go on."""
        np_ = self._np
        np_["rewards"][rows, t] = 0.0
        np_["dones"][rows, t] = True
        np_["time_outs"][rows, t] = False
        np_["valids"][rows, t] = False
        np_["rnn_states"][rows, t + 1] = 0.0
        if not self._reset_into(s, t + 1):
            return
        self.splits[s].t = t + 1
        self._request(s)

    def _step(self, s: int) -> None:
        split = self.splits[s]
        t = split.t
        rows = self._rows(s, split.k)
        actions = self._np["actions"][rows, t]
        obs_out = {key: arr[rows, t + 1] for key, arr in self._obs_np.items()}  # views: envs write in place
        vec = split.env_vector
        try:
            _, rewards, terminated, truncated, episode_stats = vec.step(
                self._actions_to_env(actions, vec.action_space), obs_out
            )
        except Exception as exc:
            if self._env_failed(s, "step", exc):
                self._restart_after_failed_step(s, rows, t)
            return  # else the split stops here: the main process stops the run
        done = np.logical_or(terminated, truncated)
        self._np["rewards"][rows, t] = rewards
        self._np["dones"][rows, t] = done
        self._np["time_outs"][rows, t] = truncated
        self._np["valids"][rows, t] = vec.valids
        if done.any():
            # A new episode starts at t + 1: its recurrent state starts from zero.
            self._np["rnn_states"][rows.start + np.flatnonzero(done), t + 1] = 0.0
        for episode in episode_stats:
            self.episodes.append((int(split.policy_of_row[int(episode["policy_agent"])]), episode))
        if episode_stats and split.mapping.dynamic:
            split.mapping.episodes_ended(int(episode["policy_agent"]) for episode in episode_stats)
        self.frames += self.layout.rows_per_split * self.ctx.frameskip
        split.t = t + 1
        self._request(s)

    def _hand_over(self, s: int) -> None:
        split = self.splits[s]
        msg = (MSG_TRAJECTORY, self.w, s, split.k)
        self.slots.hold(self.w, s, split.k, split.policies)  # before the learners can see (and release) it
        for p in split.policies:
            self.ctx.learner_queues[p].put(msg)
        split.prev_k = split.k

    def _continue_in_free_slot(self, s: int) -> None:
        split = self.splits[s]
        if not split.free:
            split.awaiting_slot = True
            return
        split.awaiting_slot = False
        new_k = split.free.pop(0)
        if split.fresh:  # nothing to continue from: new episodes in this slot
            split.fresh = False
            split.k, split.t = new_k, 0
            if self._reset(s):
                self._request(s)
            return
        old, new = self._rows(s, split.prev_k), self._rows(s, new_k)
        t_len = self.layout.rollout
        np_ = self._np
        for arr in self._obs_np.values():
            arr[new, 0] = arr[old, t_len]
        np_["rnn_states"][new, 0] = np_["rnn_states"][old, t_len]
        changed = split.mapping.redraw()
        if changed is not None:
            np_["rnn_states"][new.start + np.flatnonzero(changed), 0] = 0.0
            split.policies = split.mapping.policies
            self._apply_reward_shaping(s)
        np_["policy_id"][new] = split.policy_of_row
        split.k, split.t = new_k, 0
        if self.async_rl and changed is None:
            np_["rnn_states"][new, 1] = np_["rnn_states"][old, t_len + 1]
            for key in ("actions", "log_prob_actions", "action_logits", "values", "policy_version"):
                np_[key][new, 0] = np_[key][old, t_len]
            self._step(s)
        else:
            self._request(s)

    def _on_actions(self, s: int, k: int, t: int, incarnation: int) -> None:
        split = self.splits[s]
        if (
            incarnation != self.incarnation
            or k != split.k
            or t != split.t
            or split.awaiting_actions <= 0
            or split.awaiting_slot
        ):
            return  # an answer to a request of a worker that died (this worker's predecessor)
        split.awaiting_actions -= 1
        if split.awaiting_actions > 0:
            return
        if split.t == self.layout.rollout:
            self._hand_over(s)
            self._continue_in_free_slot(s)
        else:
            self._step(s)

    def _on_free(self, s: int, k: int) -> None:
        # The shared flags are the truth; the message only says "look again". A slot already known to be free,
        # or the one being filled (taken after its flags went down but before this message came), stays as is.
        split = self.splits[s]
        if k in split.free or (k == split.k and not split.awaiting_slot) or self.slots.is_held(self.w, s, k):
            return
        split.free.append(k)
        if split.awaiting_slot:
            self._continue_in_free_slot(s)

    def _look_for_free_slots(self) -> None:
        """For splits waiting for a slot: look at the shared flags (a learner may have given one back to the inbox
        of a predecessor of this worker, while it was being replaced)."""
        for s, split in enumerate(self.splits):
            if split.awaiting_slot:
                for k in self.slots.free_slots(self.w, s):
                    self._on_free(s, k)
                    if not split.awaiting_slot:
                        break

    # ---- loop ----------------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Sample until the main process raises STOP_SAMPLING."""
        cfg = self.cfg
        rng = random.Random(int(cfg.seed or 0) * 1000 + self.w if cfg.seed is not None else None)
        now = time.monotonic()
        not_started = []
        for s, split in enumerate(self.splits):
            if split.awaiting_slot:
                continue  # starts once a learner gives a slot back (_on_free)
            if not self._reset(s):
                continue  # its envs failed: the main process stops the run
            split.start_at = now + rng.uniform(0.0, float(cfg.decorrelate_experience_max_seconds or 0.0))
            not_started.append(s)
        last_stats = now
        while self.state.keep_running(STOP_SAMPLING):
            now = time.monotonic()
            if not_started:
                for s in [s for s in not_started if self.splits[s].start_at <= now]:
                    not_started.remove(s)
                    self._request(s)
            timeout = _POLL_SEC
            if not_started:
                timeout = max(0.0, min(timeout, min(self.splits[s].start_at for s in not_started) - now))
            try:
                messages = self.inbox.get_many(block=True, timeout=timeout)
            except queue.Empty:
                messages = ()
                self._look_for_free_slots()
            for msg in messages:
                if msg[0] == MSG_ACTIONS:
                    for s, k, t, incarnation in msg[2]:
                        self._on_actions(s, k, t, incarnation)
                elif msg[0] == MSG_FREE:
                    self._on_free(msg[1], msg[2])
                elif msg[0] == MSG_REWARD_SHAPING:
                    self.reward_shaping[msg[1]] = msg[2]
                    for split in self.splits:
                        apply_reward_shaping(split.env_vector, split.policy_of_row, msg[1], msg[2])
            self.state.beat(self.beat_index)
            first_episodes = self.episodes and self._first_episodes_left > 0
            if now - last_stats >= _STATS_INTERVAL_SEC or (self.frames and not self._reported) or first_episodes:
                self._send_stats()
                last_stats = now
        self._send_stats()

    def _send_stats(self) -> None:
        if self.frames or self.episodes:
            self._reported = True  # the first frames are reported at once: the main process logs when they came
            self._first_episodes_left -= len(self.episodes)
            self.ctx.stats_queue.put(EpisodesReport(self.w, self.frames, self.episodes))
            self.frames, self.episodes = 0, []

    def close(self) -> None:
        """Close the envs."""
        for split in self.splits:
            try:
                split.env_vector.close()
            except Exception:
                log.debug("closing an env vector failed", exc_info=True)


def rollout_worker_main(ctx: RunContext, worker_index: int, segments: SegmentFds | None = None) -> None:
    """Entry point of a rollout worker process.

    Args:
        ctx: the run context.
        worker_index: this worker's index.
        segments: for a replacement worker started after the shared segments were unlinked, their descriptors.
    """
    if segments is not None:
        segments.install()
    cfg = ctx.cfg
    worker = None
    try:
        setup_child_process(
            niceness=int(cfg.default_niceness or 0),
            cpu=worker_index if cfg.set_workers_cpu_affinity else None,
            single_thread=bool(cfg.force_envs_single_thread),
            registrations=ctx.registrations,
            log_level=ctx.log_level,
        )
        worker = RolloutWorker(ctx, worker_index)
        worker.run()
    except BaseException:
        ctx.stats_queue.put(ChildError(f"rollout_worker {worker_index}", traceback.format_exc()))
        raise SystemExit(1) from None
    finally:
        if worker is not None:
            worker.close()
