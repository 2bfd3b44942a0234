"""The multi-agent form every environment takes inside the runtime.

A single-agent gymnasium env becomes a multi-agent env with ``num_agents == 1``; a native multi-agent env (one that
exposes ``num_agents`` and takes and returns per-agent lists) passes through. Both get dict observations, per-episode
statistics in ``info["episode"]`` and auto-reset:

* single-agent: when the episode ends, the env is reset at once and the returned observation is the first one of the
  next episode (the terminal observation is not kept).
* native multi-agent: agents may end their episodes at different steps, so the env is expected to reset agents
  itself (Sample Factory's convention). When *all* agents report done on the same step and the env does not declare
  ``auto_reset = True``, the wrapper resets the whole env and returns the new episode's observations; an env that
  resets itself on that step should set ``auto_reset = True`` to avoid the extra reset.

The step is written for speed: :meth:`MultiAgentEnv.step_into` writes straight into the env vector's (or the
caller's) preallocated arrays, and :meth:`MultiAgentEnv.step` builds the list form on top of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from sf_runtime.envs.dict_obs import OBS_KEY, to_dict_obs, to_dict_space
from sf_runtime.envs.episode_stats import episode_record
from sf_runtime.envs.validation import EnvError, check_finite_batch, check_observation, check_reward

_INF = float("inf")
_NEG_INF = -_INF


def is_native_multi_agent(env: Any) -> bool:
    """True when env is a multi-agent env in Sample Factory's sense (per-agent lists in and out).

    Such an env sets ``is_multiagent = True`` or exposes ``num_agents`` (an int); ``num_agents == 1`` with
    ``is_multiagent`` unset is treated as single-agent.
    """
    flag = getattr(env, "is_multiagent", None)
    if flag is not None:
        return bool(flag)
    num_agents = getattr(env, "num_agents", None)
    return isinstance(num_agents, int | np.integer) and int(num_agents) > 1


def alloc_obs_buffers(obs_space: spaces.Dict, num_rows: int) -> dict[str, np.ndarray]:
    """Allocates one zeroed array ``[num_rows, *shape]`` of the space's dtype per observation key."""
    return {key: np.zeros((num_rows, *space.shape), dtype=space.dtype) for key, space in obs_space.spaces.items()}


class MultiAgentEnv:
    """An env in the runtime's form: ``num_agents``, dict observations, per-agent lists, auto-reset, episode stats.

    Attributes:
        env: the wrapped environment (as the factory returned it, maybe with sf's action repeat).
        full_env_name: the env's name, for messages.
        num_agents: number of agents.
        is_multiagent: whether the wrapped env is a native multi-agent env.
        observation_space: per-agent observation space, always a ``gymnasium.spaces.Dict``.
        action_space: per-agent action space.
    """

    def __init__(self, env: Any, full_env_name: str, seed: int | None = None):
        self.env = env
        self.full_env_name = full_env_name
        self.is_multiagent = is_native_multi_agent(env)
        self.num_agents = int(env.num_agents) if self.is_multiagent else 1
        if self.num_agents < 1:
            raise EnvError(f"Env {full_env_name!r} declares num_agents={self.num_agents}; it must be >= 1.")
        self._is_dict_space = isinstance(env.observation_space, spaces.Dict)
        self.observation_space: spaces.Dict = to_dict_space(env.observation_space)
        self.action_space = env.action_space
        self._keys = tuple(self.observation_space.spaces)
        self._float_keys = tuple(
            key for key, space in self.observation_space.spaces.items() if np.issubdtype(space.dtype, np.floating)
        )
        self._tuple_actions = isinstance(self.action_space, spaces.Tuple)
        self._auto_reset = bool(getattr(env, "auto_reset", False))
        self._seed = seed
        self._check_obs = True  # validate observations against the space until the first step went through
        self._ep_reward = [0.0] * self.num_agents
        self._ep_len = [0] * self.num_agents
        self._own_obs: dict[str, np.ndarray] | None = None
        self._own_rewards = np.zeros(self.num_agents, dtype=np.float32)
        self._own_terminated = np.zeros(self.num_agents, dtype=bool)
        self._own_truncated = np.zeros(self.num_agents, dtype=bool)
        if seed is not None and hasattr(self.action_space, "seed"):
            self.action_space.seed(seed)

    # ---- low-level interface used by the env vectors ----

    def reset_into(self, obs_out: dict[str, np.ndarray], row: int, seed: int | None = None) -> list[dict]:
        """Resets the env and writes the observations of its agents into ``obs_out[key][row : row + num_agents]``.

        Args:
            obs_out: destination arrays, one per observation key.
            row: index of this env's first agent in the destination.
            seed: seed for this reset; by default the env's own seed is used on its first reset only.

        Returns:
            The per-agent reset infos.
        """
        if seed is None:
            seed, self._seed = self._seed, None
        if self.is_multiagent:
            obs_list, infos = self.env.reset(seed=seed)
            infos = list(infos) if infos is not None else [{} for _ in range(self.num_agents)]
            self._write_multi(obs_list, obs_out, row, "reset")
        else:
            obs, info = self.env.reset(seed=seed)
            self._write_single(obs, obs_out, row, "reset")
            infos = [info]
        self._ep_reward = [0.0] * self.num_agents
        self._ep_len = [0] * self.num_agents
        return infos

    def step_into(
        self,
        actions: Any,
        row: int,
        obs_out: dict[str, np.ndarray],
        rewards: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        episodes: list[dict],
        infos: list | None = None,
        valids: np.ndarray | None = None,
    ) -> None:
        """Steps the env with its agents' rows of a batch of actions and writes the results at the same rows.

        Args:
            actions: batch of actions in env format, ``[N, ...]`` arrays (a tuple of them for Tuple spaces); this env
                uses rows ``row : row + num_agents``.
            row: index of this env's first agent in the batch.
            obs_out: observation destination arrays (after an episode ends: the next episode's first observation).
            rewards: float32 destination of the rewards.
            terminated: bool destination of the terminated flags.
            truncated: bool destination of the truncated flags.
            episodes: list to which the ``"episode"`` records of episodes that ended on this step are appended.
            infos: if given, the per-agent info dicts are appended (ending agents get ``info["episode"]``).
            valids: if given, a native multi-agent env's agents get False where their info says ``is_active=False``
                (the agent takes no part in this step: its transition is not learned from), else True.
        """
        if self.is_multiagent:
            self._step_multi(actions, row, obs_out, rewards, terminated, truncated, episodes, infos, valids)
            return
        if self._tuple_actions:
            action = tuple(part[row] for part in actions)
        else:
            action = actions[row]
        obs, reward, term, trunc, info = self.env.step(action)
        try:
            reward = float(reward)
        except (TypeError, ValueError):
            check_reward(reward, self.full_env_name)  # raises the error that names the problem
        if not _NEG_INF < reward < _INF:  # also False for NaN
            check_reward(reward, self.full_env_name)
        self._ep_reward[0] += reward  # summed as Python floats: float32 sums would lose precision over long runs
        self._ep_len[0] += 1
        rewards[row] = reward
        terminated[row] = term
        truncated[row] = trunc
        if term or trunc:
            record = episode_record(self._ep_reward[0], self._ep_len[0], info, row)
            episodes.append(record)
            if infos is not None:
                info = dict(info)
                info["episode"] = record
            if self._check_obs:
                terminal_obs = to_dict_obs(obs, self._is_dict_space)
                check_observation(terminal_obs, self.observation_space, self.full_env_name, "step")
            obs, _ = self.env.reset()
            self._ep_reward[0] = 0.0
            self._ep_len[0] = 0
        if infos is not None:
            infos.append(info)
        if self._check_obs:
            self._write_single(obs, obs_out, row, "step")
            self._check_obs = False
        elif self._is_dict_space:
            for key in self._keys:
                obs_out[key][row] = obs[key]
        else:
            obs_out[OBS_KEY][row] = obs

    def _step_multi(self, actions, row, obs_out, rewards, terminated, truncated, episodes, infos, valids) -> None:
        n = self.num_agents
        if self._tuple_actions:
            agent_actions = [tuple(part[row + i] for part in actions) for i in range(n)]
        else:
            agent_actions = actions[row : row + n]
        obs_list, reward_list, term_list, trunc_list, info_list = self.env.step(agent_actions)
        if self._check_obs:
            self._check_lengths(obs_list, reward_list, term_list, trunc_list)
        all_done = True
        for i in range(n):
            reward = check_reward(reward_list[i], self.full_env_name)
            self._ep_reward[i] += reward
            self._ep_len[i] += 1
            done = bool(term_list[i]) or bool(trunc_list[i])
            rewards[row + i] = reward
            terminated[row + i] = term_list[i]
            truncated[row + i] = trunc_list[i]
            info = info_list[i] if info_list is not None else {}
            if valids is not None:
                valids[row + i] = bool(info.get("is_active", True)) if info else True
            if done:
                record = episode_record(self._ep_reward[i], self._ep_len[i], info, row + i)
                record["agent"] = i
                episodes.append(record)
                if infos is not None:
                    info = dict(info)
                    info["episode"] = record
                self._ep_reward[i] = 0.0
                self._ep_len[i] = 0
            else:
                all_done = False
            if infos is not None:
                infos.append(info)
        if all_done and not self._auto_reset:
            obs_list, _ = self.env.reset()
        self._write_multi(obs_list, obs_out, row, "step")
        self._check_obs = False

    def _check_lengths(self, *per_agent: Any) -> None:
        names = ("observations", "rewards", "terminated", "truncated")
        for name, values in zip(names, per_agent, strict=True):
            try:
                length = len(values)
            except TypeError:
                length = None
            if length != self.num_agents:
                raise EnvError(
                    f"Multi-agent env {self.full_env_name!r} (num_agents={self.num_agents}) returned {name} "
                    f"{values!r} from step(); expected a sequence of {self.num_agents} values, one per agent."
                )

    def _write_single(self, obs: Any, obs_out: dict[str, np.ndarray], row: int, where: str) -> None:
        obs = to_dict_obs(obs, self._is_dict_space)
        if self._check_obs:
            check_observation(obs, self.observation_space, self.full_env_name, where)
        for key in self._keys:
            obs_out[key][row] = obs[key]

    def _write_multi(self, obs_list: Any, obs_out: dict[str, np.ndarray], row: int, where: str) -> None:
        if self._check_obs and (not hasattr(obs_list, "__len__") or len(obs_list) != self.num_agents):
            raise EnvError(
                f"Multi-agent env {self.full_env_name!r} (num_agents={self.num_agents}) returned {type(obs_list)} "
                f"observations from {where}; expected a list of {self.num_agents} observations, one per agent."
            )
        for i in range(self.num_agents):
            obs = to_dict_obs(obs_list[i], self._is_dict_space)
            if self._check_obs:
                check_observation(obs, self.observation_space, self.full_env_name, f"{where} (agent {i})")
            for key in self._keys:
                obs_out[key][row + i] = obs[key]

    # ---- list interface (enjoy, tests, users) ----

    def _own_obs_buffers(self) -> dict[str, np.ndarray]:
        if self._own_obs is None:
            self._own_obs = alloc_obs_buffers(self.observation_space, self.num_agents)
        return self._own_obs

    def _obs_list(self) -> list[dict[str, np.ndarray]]:
        buffers = self._own_obs_buffers()
        return [{key: buffers[key][i].copy() for key in self._keys} for i in range(self.num_agents)]

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[list[dict], list[dict]]:
        """Resets the env.

        Args:
            seed: seed for this reset (by default the env's seed from ``cfg.seed`` is used on the first reset).
            options: unused; accepted for gymnasium compatibility.

        Returns:
            ``(obs_list, info_list)``: one dict observation and one info dict per agent.
        """
        infos = self.reset_into(self._own_obs_buffers(), 0, seed=seed)
        return self._obs_list(), infos

    def step(self, actions: Any) -> tuple[list[dict], list[float], list[bool], list[bool], list[dict]]:
        """Steps all agents.

        Args:
            actions: one action per agent (a list, or an array whose first axis is the agent).

        Returns:
            ``(obs_list, rewards, terminated, truncated, infos)``, per agent; on the step an agent's episode ends, its
            info has ``"episode": {"reward", "length", "policy_agent", **episode_extra_stats}`` and its observation is
            the first one of its next episode. A native multi-agent env's records also have ``"agent"``, the
            agent's index in the env.
        """
        if len(actions) != self.num_agents:
            raise EnvError(
                f"Env {self.full_env_name!r} has {self.num_agents} agent(s) but step() got {len(actions)} actions; "
                "pass one action per agent."
            )
        if self._tuple_actions:
            batch = tuple([action[j] for action in actions] for j in range(len(self.action_space.spaces)))
        else:
            batch = actions
        episodes: list[dict] = []
        infos: list[dict] = []
        obs_buffers = self._own_obs_buffers()
        self.step_into(
            batch, 0, obs_buffers, self._own_rewards, self._own_terminated, self._own_truncated, episodes, infos
        )
        check_finite_batch(obs_buffers, self._float_keys, None, self.full_env_name)  # rewards: checked per step
        return (
            self._obs_list(),
            self._own_rewards.tolist(),
            self._own_terminated.tolist(),
            self._own_truncated.tolist(),
            infos,
        )

    def render(self) -> Any:
        """Renders the wrapped env (as configured by its ``render_mode``)."""
        return self.env.render()

    def close(self) -> None:
        """Closes the wrapped env."""
        close = getattr(self.env, "close", None)
        if close is not None:
            close()

    @property
    def unwrapped(self) -> Any:
        """The innermost environment."""
        return getattr(self.env, "unwrapped", self.env)

    def __repr__(self) -> str:
        return f"MultiAgentEnv({self.full_env_name!r}, num_agents={self.num_agents}, env={self.env!r})"
