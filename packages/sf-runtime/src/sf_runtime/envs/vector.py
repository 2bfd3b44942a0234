"""``EnvVector``: a group of envs stepped together, the interface both sampling modes use.

Every env vector has ``N = num_agents_total`` agent rows. ``reset()`` and ``step()`` return observations as a dict of
``[N, ...]`` arrays, rewards ``float32[N]``, terminated and truncated ``bool[N]``, and the ``"episode"`` records of the
episodes that ended on the step. The returned arrays are only valid until the next call (the observation arrays are
preallocated and overwritten), so the caller copies what it keeps (one ``np.copyto`` per key), or passes ``obs_out=``
destination arrays (e.g. shared-memory views) that the observations are written into directly.

Two implementations:

* :class:`LoopEnvVector` steps each :class:`~sf_runtime.envs.multi_agent.MultiAgentEnv` on its own (any env, single
  or multi-agent). Used for non-batched sampling, and for batched sampling of envs with no native vector form.
* :class:`NativeEnvVector` wraps gymnasium's own vectorized implementation of a gymnasium id
  (``gymnasium.make_vec(id, vectorization_mode="vector_entry_point")``, e.g. CartPole-v1), used for batched sampling.
  Gymnasium's vector envs auto-reset one step late (``AutoresetMode.NEXT_STEP``): on the step after an episode
  ends, the env ignores the action and returns the new episode's first observation with reward 0. Such a step is
  flagged in :attr:`EnvVector.valids` (False) and must not be learned from; it is not counted in episode lengths.

The module is over 400 lines because the interface, its two implementations and :func:`make_env_vector`, which picks
one, read best together: the contract above is what both must keep, step for step.
"""

from __future__ import annotations

import logging
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from sf_runtime.envs.create import cfg_value, check_framestack_read, create_env, factory_cfg, sf_applies_frameskip
from sf_runtime.envs.dict_obs import OBS_KEY, to_dict_space
from sf_runtime.envs.episode_stats import episode_record
from sf_runtime.envs.interfaces import find_reward_shaping_interface, find_training_info_interface
from sf_runtime.envs.multi_agent import MultiAgentEnv, alloc_obs_buffers
from sf_runtime.envs.registry import is_registered_in_sf, make_env_config
from sf_runtime.envs.seeding import env_seed
from sf_runtime.envs.validation import (
    EnvError,
    check_action_space,
    check_finite_batch,
    check_observation,
    check_observation_space,
)
from sf_runtime.envs.vector_factories import env_vector_factory

log = logging.getLogger(__name__)


class EnvVector:
    """Common part of the env vectors: spaces, preallocated output arrays, and the reset/step interface.

    Attributes:
        full_env_name: the env's name.
        num_envs: number of envs in the vector.
        num_agents_total: N, the number of agent rows (sum of the envs' ``num_agents``).
        batched: whether this vector was made for batched sampling.
        observation_space: per-agent observation space (a ``gymnasium.spaces.Dict``).
        action_space: per-agent action space.
        obs: the observation arrays ``{key: [N, ...]}`` written by reset/step when no ``obs_out`` is given.
        rewards: ``float32[N]`` rewards of the last step (read it after each step: a native vector may replace the
            array object instead of overwriting it).
        terminated: ``bool[N]`` terminated flags of the last step (same remark).
        truncated: ``bool[N]`` truncated flags of the last step (same remark).
        valids: ``bool[N]``; False where the last step's transition is a native vector env's own reset step (the
            action was ignored and the reward is 0; see the module docstring), or, in a loop vector, where a native
            multi-agent env's agent info said ``is_active=False``: such transitions are not learned from.
        env_ids: the unique ``env_id`` of each env.
        failed_env: position of the env that raised in the last ``reset``/``step`` of a loop vector (None when no
            env raised, or when the vector cannot tell its envs apart).
    """

    failed_env: int | None = None

    def __init__(
        self,
        full_env_name: str,
        num_envs: int,
        num_agents_total: int,
        observation_space: spaces.Dict,
        action_space: spaces.Space,
        batched: bool,
        env_ids: list[int],
    ):
        self.full_env_name = full_env_name
        self.num_envs = num_envs
        self.num_agents_total = num_agents_total
        self.observation_space = observation_space
        self.action_space = action_space
        self.batched = batched
        self.env_ids = env_ids
        self.obs = alloc_obs_buffers(observation_space, num_agents_total)
        self.rewards = np.zeros(num_agents_total, dtype=np.float32)
        self.terminated = np.zeros(num_agents_total, dtype=bool)
        self.truncated = np.zeros(num_agents_total, dtype=bool)
        self.valids = np.ones(num_agents_total, dtype=bool)
        self._float_keys = tuple(
            key for key, space in observation_space.spaces.items() if np.issubdtype(space.dtype, np.floating)
        )

    def _out(self, obs_out: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        if obs_out is None:
            return self.obs
        for key, array in self.obs.items():
            dest = obs_out.get(key)
            if dest is None or dest.shape != array.shape or dest.dtype != array.dtype:
                raise ValueError(
                    f"obs_out[{key!r}] must be an array of shape {array.shape} and dtype {array.dtype}, got "
                    f"{None if dest is None else (dest.shape, dest.dtype)}"
                )
        return obs_out

    def reset(self, obs_out: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Resets every env.

        Args:
            obs_out: optional destination arrays ``{key: [N, ...]}``; by default :attr:`obs` is used.

        Returns:
            The observation arrays (obs_out or :attr:`obs`).
        """
        raise NotImplementedError

    def step(
        self, actions: Any, obs_out: dict[str, np.ndarray] | None = None
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, list[dict]]:
        """Steps every env once.

        Args:
            actions: actions in env format, one row per agent: an array ``[N, ...]`` (int for Discrete and
                MultiDiscrete, float for Box), or a tuple of such arrays for a Tuple action space.
            obs_out: optional destination arrays ``{key: [N, ...]}``; by default :attr:`obs` is used.

        Returns:
            ``(obs, rewards, terminated, truncated, episodes)``: where an episode ended, obs holds the first
            observation of the next one; episodes lists the ``{"reward", "length", "policy_agent",
            **episode_extra_stats}`` records of the episodes that ended on this step (``policy_agent`` is the row).
        """
        raise NotImplementedError

    def set_training_info(self, training_info: dict[str, Any]) -> None:
        """Passes training info to every env implementing :class:`~sf_runtime.envs.interfaces.TrainingInfoInterface`."""

    def set_reward_shaping(self, reward_shaping: dict[str, Any], agent: int | None = None) -> None:
        """Sets the reward shaping of one agent row (or all when agent is None) on envs that support it."""

    def close(self) -> None:
        """Closes every env."""

    def __enter__(self) -> EnvVector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LoopEnvVector(EnvVector):
    """Steps a list of :class:`MultiAgentEnv` one after the other, each writing its rows of the output arrays.

    Attributes:
        envs: the envs, in row order.
        first_rows: the row of each env's first agent.
    """

    def __init__(self, envs: list[MultiAgentEnv], batched: bool, env_ids: list[int]):
        if not envs:
            raise ValueError("an env vector needs at least one env (num_envs >= 1)")
        first = envs[0]
        for env in envs[1:]:
            if env.observation_space != first.observation_space or env.action_space != first.action_space:
                raise EnvError(
                    f"Envs of {first.full_env_name!r} in one vector have different spaces: "
                    f"{first.observation_space}/{first.action_space} vs {env.observation_space}/{env.action_space}; "
                    "every env instance must declare the same spaces."
                )
        self.envs = envs
        self.first_rows = []
        row = 0
        for env in envs:
            self.first_rows.append(row)
            row += env.num_agents
        super().__init__(
            first.full_env_name, len(envs), row, first.observation_space, first.action_space, batched, env_ids
        )
        self._pairs = list(zip(envs, self.first_rows, strict=True))
        self._discrete = isinstance(first.action_space, spaces.Discrete)
        self._training_info = [iface for env in envs if (iface := find_training_info_interface(env.env)) is not None]

    def reset(self, obs_out=None):
        out = self._out(obs_out)
        self.failed_env = None
        try:
            for env, row in self._pairs:
                env.reset_into(out, row)
        except BaseException:
            self.failed_env = self.envs.index(env)  # for the error report: which env raised
            raise
        self.valids[:] = True
        return out

    def step(self, actions, obs_out=None):
        out = self._out(obs_out)
        if self._discrete and isinstance(actions, np.ndarray) and actions.ndim == 1:
            # Python ints: one conversion for the batch, and gymnasium's Discrete.contains check is fastest on them
            actions = actions.tolist()
        episodes: list[dict] = []
        rewards, terminated, truncated = self.rewards, self.terminated, self.truncated
        try:
            for env, row in self._pairs:
                env.step_into(actions, row, out, rewards, terminated, truncated, episodes, None, self.valids)
        except BaseException:
            self.failed_env = self.envs.index(env)  # for the error report: which env raised
            raise
        check_finite_batch(out, self._float_keys, None, self.full_env_name)  # each env checked its rewards
        return out, rewards, terminated, truncated, episodes

    def set_training_info(self, training_info):
        for iface in self._training_info:
            iface.set_training_info(training_info)

    def set_reward_shaping(self, reward_shaping, agent=None):
        for env, row in self._pairs:
            iface = find_reward_shaping_interface(env.env)
            if iface is None:
                continue
            if agent is None:
                iface.set_reward_shaping(reward_shaping, slice(0, env.num_agents))
            elif row <= agent < row + env.num_agents:
                iface.set_reward_shaping(reward_shaping, agent - row)

    def close(self):
        for env in self.envs:
            env.close()


class NativeEnvVector(EnvVector):
    """Wraps a gymnasium vector env made by ``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")``.

    The vector env's ``autoreset_mode`` decides how ended episodes restart: ``SameStep`` needs nothing,
    ``NextStep`` (gymnasium's default, e.g. CartPole) marks the following reset step invalid in :attr:`valids`,
    ``Disabled`` is handled by a masked reset right after the step. ``episode_extra_stats`` are not read from
    vector envs (their infos are batched dicts).

    Attributes:
        vec: the gymnasium vector env.
    """

    def __init__(
        self, vec: gymnasium.vector.VectorEnv, full_env_name: str, batched: bool, env_ids: list[int], seed: int | None
    ):
        check_observation_space(vec.single_observation_space, full_env_name)
        check_action_space(vec.single_action_space, full_env_name)
        super().__init__(
            full_env_name,
            vec.num_envs,
            vec.num_envs,
            to_dict_space(vec.single_observation_space),
            vec.single_action_space,
            batched,
            env_ids,
        )
        self.vec = vec
        self._is_dict_space = isinstance(vec.single_observation_space, spaces.Dict)
        self._keys = tuple(self.observation_space.spaces)
        mode = vec.metadata.get("autoreset_mode", gymnasium.vector.AutoresetMode.NEXT_STEP)
        self._mode = gymnasium.vector.AutoresetMode(mode)
        self._seed = seed
        self._checked = False
        self._prev_done = np.zeros(self.num_agents_total, dtype=bool)
        self._ep_reward = np.zeros(self.num_agents_total, dtype=np.float64)
        self._ep_len = np.zeros(self.num_agents_total, dtype=np.int64)
        if seed is not None:
            vec.action_space.seed(seed)

    def _write(self, obs: Any, out: dict[str, np.ndarray], rows: np.ndarray | None = None) -> None:
        if not self._is_dict_space:
            if self._checked and rows is None:
                np.copyto(out[OBS_KEY], obs)
                return
            obs = {OBS_KEY: obs}
        if not self._checked:
            first = {key: np.asarray(obs[key])[0] for key in self._keys}
            check_observation(first, self.observation_space, self.full_env_name, "reset of the vector env")
            self._checked = True
        for key in self._keys:
            if rows is None:
                np.copyto(out[key], obs[key])
            else:
                out[key][rows] = obs[key][rows]

    def reset(self, obs_out=None):
        out = self._out(obs_out)
        seed, self._seed = self._seed, None
        obs, _ = self.vec.reset(seed=seed)
        self._write(obs, out)
        self._prev_done[:] = False
        self._ep_reward[:] = 0.0
        self._ep_len[:] = 0
        self.valids[:] = True
        return out

    def step(self, actions, obs_out=None):
        out = self._out(obs_out)
        obs, rewards, terminated, truncated, _ = self.vec.step(actions)
        # The vector env returns fresh arrays each step: adopt them rather than copy (copy only to fix the dtype).
        self.rewards = rewards if rewards.dtype == np.float32 else rewards.astype(np.float32)
        self.terminated = terminated if terminated.dtype == np.bool_ else terminated.astype(bool)
        self.truncated = truncated if truncated.dtype == np.bool_ else truncated.astype(bool)
        if self._mode is gymnasium.vector.AutoresetMode.NEXT_STEP:
            np.logical_not(self._prev_done, out=self.valids)
            self._ep_len += self.valids
        else:
            self._ep_len += 1
        self._ep_reward += self.rewards
        done = np.logical_or(self.terminated, self.truncated, out=self._prev_done)
        episodes: list[dict] = []
        if done.any():
            ended = np.flatnonzero(done)
            for row in ended.tolist():
                episodes.append(episode_record(self._ep_reward[row], self._ep_len[row], None, row))
            self._ep_reward[ended] = 0.0
            self._ep_len[ended] = 0
            if self._mode is gymnasium.vector.AutoresetMode.DISABLED:
                self._write(obs, out)
                obs, _ = self.vec.reset(options={"reset_mask": done.copy()})
                self._write(obs, out, rows=ended)
                check_finite_batch(out, self._float_keys, self.rewards, self.full_env_name)
                return out, self.rewards, self.terminated, self.truncated, episodes
        self._write(obs, out)
        check_finite_batch(out, self._float_keys, self.rewards, self.full_env_name)
        return out, self.rewards, self.terminated, self.truncated, episodes

    def close(self):
        self.vec.close()


def native_vector_available(full_env_name: str, cfg: Any, render_mode: str | None = None) -> bool:
    """True when full_env_name is a plain gymnasium id with a native vector implementation sf can use as is.

    That needs: not registered with sf_registry (a registered factory must be called for each env), a
    ``vector_entry_point`` in the gymnasium spec, no ``additional_wrappers``, no sf action repeat, no render mode.
    """
    if render_mode is not None or is_registered_in_sf(full_env_name):
        return False
    try:
        spec = gymnasium.spec(full_env_name)
    except gymnasium.error.Error:
        return False
    if spec.vector_entry_point is None or spec.additional_wrappers:
        return False
    return sf_applies_frameskip(full_env_name, cfg) == 1 and int(cfg_value(cfg, "env_frameskip", 1) or 1) == 1


def _make_equivalent_native_vector(full_env_name: str, num_envs: int) -> gymnasium.vector.VectorEnv | None:
    """gymnasium's native vector env for the id, or None when it cannot be made or differs from the single env.

    Some native vector envs preprocess differently from their single-env form (ale-py's AtariVectorEnv returns
    stacked 84x84 frames where ``ALE/...`` returns RGB screens), so the spaces are compared: batched and non-batched
    sampling must see the same env.
    """
    try:
        vec = gymnasium.make_vec(full_env_name, num_envs=num_envs, vectorization_mode="vector_entry_point")
    except (gymnasium.error.Error, ImportError) as exc:
        log.info("No native vector env for %s (%s); stepping the envs in a loop", full_env_name, exc)
        return None
    single = gymnasium.make(full_env_name)
    try:
        same = (
            single.observation_space == vec.single_observation_space and single.action_space == vec.single_action_space
        )
    finally:
        single.close()
    if not same:
        log.info(
            "gymnasium's native vector env for %s has other spaces than the single env (%s, %s vs %s, %s); "
            "stepping the envs in a loop",
            full_env_name,
            vec.single_observation_space,
            vec.single_action_space,
            single.observation_space,
            single.action_space,
        )
        vec.close()
        return None
    return vec


def make_env_vector(
    cfg: Any,
    worker_index: int,
    split_index: int,
    num_envs: int,
    batched: bool,
    *,
    render_mode: str | None = None,
    allow_native: bool = True,
    decorrelate: bool = False,
) -> EnvVector:
    """Creates the envs of one split of one rollout worker as an :class:`EnvVector`.

    Env ids: the env at position i of split s of worker w has ``vector_index = s * num_envs + i`` and
    ``env_id = w * cfg.num_envs_per_worker + vector_index`` (unique in ``0..num_workers * num_envs_per_worker - 1``);
    its seed derives from ``cfg.seed`` and that id.

    Args:
        cfg: the experiment configuration (``env``, ``seed``, ``env_frameskip``, ``num_envs_per_worker``).
        worker_index: index of the rollout worker.
        split_index: index of the split within the worker.
        num_envs: number of envs in this split.
        batched: True for batched sampling (the env's registered vector factory, see
            :func:`~sf_runtime.envs.vector_factories.register_env_vector`, or gymnasium's native vector
            implementation where the env has one), False for non-batched (each env stepped on its own).
        render_mode: gymnasium render mode for every env, or None.
        allow_native: False forces the loop implementation even where a native vector one exists.
        decorrelate: the envs stepped one by one start at staggered points: after its first reset, the env at
            position i takes a random number (up to ``20 * i``) of random steps (``decorrelate_envs_on_one_worker``;
            a native vector env is left as it is).

    Returns:
        The registered vector, a :class:`NativeEnvVector` or a :class:`LoopEnvVector`.
    """
    if num_envs < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    full_env_name = cfg.env
    per_worker = int(cfg_value(cfg, "num_envs_per_worker", num_envs) or num_envs)
    vector_indices = [split_index * num_envs + i for i in range(num_envs)]
    env_ids = [worker_index * max(per_worker, num_envs) + v for v in vector_indices]
    seed = cfg_value(cfg, "seed", None)
    if batched and allow_native and render_mode is None:
        make_vector = env_vector_factory(full_env_name)
        if make_vector is not None:
            made_with, reads = factory_cfg(cfg)
            vec = make_vector(full_env_name, made_with, env_ids, env_seed(seed, env_ids[0]))
            check_framestack_read(full_env_name, cfg, reads)
            if not isinstance(vec, EnvVector) or vec.num_envs != num_envs:
                raise EnvError(
                    f"the vector factory of {full_env_name!r} returned {vec!r}; it must return an EnvVector of "
                    f"{num_envs} envs"
                )
            return vec
    if batched and allow_native and native_vector_available(full_env_name, cfg, render_mode):
        vec = _make_equivalent_native_vector(full_env_name, num_envs)
        if vec is not None:
            check_framestack_read(full_env_name, cfg, set())  # made by gymnasium: nothing stacks frames
            return NativeEnvVector(vec, full_env_name, batched, env_ids, env_seed(seed, env_ids[0]))
    envs = []
    try:
        for vector_index, env_id in zip(vector_indices, env_ids, strict=True):
            env_config = make_env_config(worker_index, vector_index, env_id)
            envs.append(create_env(full_env_name, cfg, env_config, render_mode, decorrelate=decorrelate))
    except BaseException:
        for env in envs:
            env.close()
        raise
    return LoopEnvVector(envs, batched, env_ids)
