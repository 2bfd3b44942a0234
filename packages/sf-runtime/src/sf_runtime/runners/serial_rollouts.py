"""Rollout collection in one process: step an :class:`~sf_runtime.envs.EnvVector`, one batched forward pass per step.

The collector owns preallocated trajectory tensors in the layout of the learner's batch contract, for all
``N = env_vector.num_agents_total`` agents at once: ``obs[key]: [N, T+1, ...]``, ``rnn_states: [N, T+1, S]``,
``actions: [N, T, ...]``, ``values: [N, T+1]`` and so on, with ``T = cfg.rollout``. Each env step is one indexed
forward pass per policy over all the agents that policy controls; the only per-agent Python work is what the env
vector itself does. After ``T`` steps the trajectories are copied out per policy, and the last observation and
recurrent state (index ``T``) become index 0 of the next rollout.

The forward pass at index ``T`` serves twice: its values are the bootstrap values of the finished rollout, and its
actions are the first actions of the next one. When the weights changed in between (the learner trained), the
first step of the next rollout is recomputed, so that every stored action carries the version that produced it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sf_runtime.envs.failures import EnvCallError, describe_env_failure
from sf_runtime.model import actions_to_env

# Output keys of the actor-critic that are stored per step, and the leading shape of their buffers.
_STEP_KEYS = ("actions", "log_prob_actions", "action_logits")


def _torch_dtype(np_dtype: np.dtype) -> torch.dtype:
    return torch.from_numpy(np.zeros(0, dtype=np_dtype)).dtype


class SerialRolloutCollector:
    """Collects rollouts of ``T`` steps from every agent of an env vector with the current policies.

    Args:
        env_vector: the envs, stepped all at once.
        actor_critics: the model of each policy, by policy id (the learners' own modules: serial mode has no weight
            publishing).
        versions: callable returning the current policy version of a policy id.
        policy_of_agent: the policy of each of the ``N`` agents.
        rollout: ``T``, steps per trajectory.
        device: where the forward passes run; the trajectory tensors stay on the CPU.
    """

    def __init__(
        self,
        env_vector: Any,
        actor_critics: Mapping[int, torch.nn.Module],
        versions: Any,
        policy_of_agent: Sequence[int],
        rollout: int,
        device: torch.device,
    ) -> None:
        self.env_vector = env_vector
        self.actor_critics = dict(actor_critics)
        self.versions = versions
        self.rollout = int(rollout)
        self.device = device
        self.num_agents = int(env_vector.num_agents_total)
        self.policy_of_agent = np.zeros(self.num_agents, dtype=np.int64)
        self.agent_index: dict[int, slice | Tensor] = {}
        self._set_agents(policy_of_agent)

        n, t = self.num_agents, self.rollout
        self.obs: dict[str, Tensor] = {}
        for key, space in env_vector.observation_space.spaces.items():
            self.obs[key] = torch.zeros((n, t + 1, *space.shape), dtype=_torch_dtype(space.dtype))
        first_ac = next(iter(self.actor_critics.values()))
        self.rnn_size = int(first_ac.rnn_state_size)
        self.rnn_states = torch.zeros((n, t + 1, self.rnn_size), dtype=torch.float32)
        self.values = torch.zeros((n, t + 1), dtype=torch.float32)
        self.rewards = torch.zeros((n, t), dtype=torch.float32)
        self.dones = torch.zeros((n, t), dtype=torch.bool)
        self.time_outs = torch.zeros((n, t), dtype=torch.bool)
        self.policy_version = torch.zeros((n, t), dtype=torch.int64)
        self.valids = torch.ones((n, t), dtype=torch.bool)
        self.step_buffers: dict[str, Tensor] = {}  # actions, log-probs, logits: allocated from the first forward pass

        self._pending: dict[int, tuple[int, dict[str, Tensor]]] = {}  # policy -> (version, forward output at index 0)
        self._reset_done = False

    # ---- internals -----------------------------------------------------------------------------------------------

    def _set_agents(self, policy_of_agent: Sequence[int]) -> None:
        agents = np.array(policy_of_agent, dtype=np.int64)
        if agents.shape != (self.num_agents,):
            raise ValueError(
                f"policy_of_agent has {agents.shape[0]} entries, expected one per agent ({self.num_agents})"
            )
        self.policy_of_agent = agents
        # Per policy: a slice when it controls every agent (no gather needed), else an index tensor; policies that
        # control no agent now are left out.
        self.agent_index = {}
        for pid in self.actor_critics:
            idx = np.flatnonzero(agents == pid)
            if len(idx):
                self.agent_index[pid] = slice(None) if len(idx) == self.num_agents else torch.from_numpy(idx)

    def _write_obs(self, t: int, obs: Mapping[str, np.ndarray]) -> None:
        for key, buf in self.obs.items():
            buf[:, t].copy_(torch.as_tensor(obs[key]))

    @torch.no_grad()
    def _forward(self, pid: int, t: int) -> dict[str, Tensor]:
        idx = self.agent_index[pid]
        ac = self.actor_critics[pid]
        obs = {key: buf[idx, t].to(self.device) for key, buf in self.obs.items()}
        rnn = self.rnn_states[idx, t].to(self.device)
        out = ac(ac.normalize_obs(obs), rnn)
        return {key: value.detach().cpu() for key, value in out.items()}

    def _ensure_step_buffers(self, out: Mapping[str, Tensor]) -> None:
        if self.step_buffers:
            return
        n, t = self.num_agents, self.rollout
        for key in _STEP_KEYS:
            value = out[key]
            self.step_buffers[key] = torch.zeros((n, t, *value.shape[1:]), dtype=value.dtype)

    def _store(self, pid: int, t: int, out: Mapping[str, Tensor], version: int) -> None:
        idx = self.agent_index[pid]
        self.values[idx, t] = out["values"].reshape(-1).float()
        if t == self.rollout:
            return
        self._ensure_step_buffers(out)
        for key in _STEP_KEYS:
            self.step_buffers[key][idx, t] = out[key].to(self.step_buffers[key].dtype)
        self.rnn_states[idx, t + 1] = out["new_rnn_states"].float()
        self.policy_version[idx, t] = version

    # ---- public --------------------------------------------------------------------------------------------------

    def set_policy_of_agent(self, policy_of_agent: Sequence[int], changed: np.ndarray) -> None:
        """Between two rollouts: a new policy for some agents (``changed``, a bool mask over the agents).

        Their recurrent state starts from zero, and the first step of the next rollout is computed again by the
        policies now in charge.
        """
        self._set_agents(policy_of_agent)
        self.rnn_states[torch.from_numpy(np.asarray(changed, dtype=bool)), 0] = 0.0
        self._pending.clear()

    def reset(self) -> None:
        """Reset the envs and the recurrent states; the next rollout starts from fresh episodes."""
        try:
            obs = self.env_vector.reset()
        except Exception as exc:
            raise EnvCallError(describe_env_failure(self.env_vector, "reset", exc)) from exc
        self._write_obs(0, obs)
        self.rnn_states[:, 0].zero_()
        self._pending.clear()
        self._reset_done = True

    def collect(self) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
        """Run ``T`` steps of every env with the current policies.

        Returns:
            ``(trajectories, episodes)``: per policy that controls agents now, a batch dict of its agents'
            trajectories (the learner's batch contract, ``B`` = the policy's number of agents); and the episode
            statistics of the episodes that ended, each with ``"policy_id"`` added.
        """
        if not self._reset_done:
            self.reset()
        t_max = self.rollout
        episodes: list[dict[str, Any]] = []
        for t in range(t_max + 1):
            for pid in self.agent_index:
                version = int(self.versions(pid))
                pending = self._pending.pop(pid, None) if t == 0 else None
                if pending is not None and pending[0] == version:
                    out = pending[1]
                else:
                    out = self._forward(pid, t)
                self._store(pid, t, out, version)
                if t == t_max:
                    self._pending[pid] = (version, out)
            if t == t_max:
                break
            actions = self.step_buffers["actions"][:, t].numpy()
            try:
                obs, rewards, terminated, truncated, episode_stats = self.env_vector.step(
                    actions_to_env(actions, self.env_vector.action_space)
                )
            except Exception as exc:
                raise EnvCallError(describe_env_failure(self.env_vector, "step", exc)) from exc
            self._write_obs(t + 1, obs)
            self.rewards[:, t] = torch.as_tensor(rewards, dtype=torch.float32)
            terminated_t = torch.as_tensor(terminated, dtype=torch.bool)
            truncated_t = torch.as_tensor(truncated, dtype=torch.bool)
            done = terminated_t | truncated_t
            self.dones[:, t] = done
            self.time_outs[:, t] = truncated_t
            # False on a native vector env's own reset step (the action was ignored): not learned from.
            self.valids[:, t] = torch.as_tensor(self.env_vector.valids, dtype=torch.bool)
            if bool(done.any()):
                # The next observation starts a new episode: its recurrent state starts from zero.
                self.rnn_states[done, t + 1] = 0.0
            for episode in episode_stats:
                agent = int(episode["policy_agent"])
                episodes.append({**episode, "policy_id": int(self.policy_of_agent[agent])})

        trajectories = {pid: self._copy_out(pid) for pid in self.agent_index}
        for buf in self.obs.values():
            buf[:, 0] = buf[:, t_max]
        self.rnn_states[:, 0] = self.rnn_states[:, t_max]
        return trajectories, episodes

    def _copy_out(self, pid: int) -> dict[str, Any]:
        idx = self.agent_index[pid]

        def take(buf: Tensor) -> Tensor:
            return buf[idx].clone() if isinstance(idx, slice) else buf[idx]  # advanced indexing already copies

        batch: dict[str, Any] = {"obs": {key: take(buf) for key, buf in self.obs.items()}}
        batch["rnn_states"] = take(self.rnn_states)
        for key in _STEP_KEYS:
            batch[key] = take(self.step_buffers[key])
        batch["values"] = take(self.values)
        batch["rewards"] = take(self.rewards)
        batch["dones"] = take(self.dones)
        batch["time_outs"] = take(self.time_outs)
        batch["policy_version"] = take(self.policy_version)
        batch["valids"] = take(self.valids)
        return batch

    def steps_per_rollout(self, pid: int) -> int:
        """Agent steps that one rollout collects for a policy."""
        return int((self.policy_of_agent == pid).sum()) * self.rollout


def concat_trajectories(batches: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Concatenate trajectory batches along the trajectory dimension (nested ``obs`` dicts included)."""
    if len(batches) == 1:
        return dict(batches[0])
    out: dict[str, Any] = {}
    for key, value in batches[0].items():
        if isinstance(value, Mapping):
            out[key] = {k: torch.cat([b[key][k] for b in batches]) for k in value}
        else:
            out[key] = torch.cat([b[key] for b in batches])
    return out


def split_trajectories(batch: Mapping[str, Any], sizes: Sequence[int]) -> list[dict[str, Any]]:
    """Split a trajectory batch into consecutive batches of ``sizes`` trajectories (views, no copies)."""
    parts: list[dict[str, Any]] = []
    start = 0
    for size in sizes:
        part: dict[str, Any] = {}
        for key, value in batch.items():
            if isinstance(value, Mapping):
                part[key] = {k: v[start : start + size] for k, v in value.items()}
            else:
                part[key] = value[start : start + size]
        parts.append(part)
        start += size
    return parts
