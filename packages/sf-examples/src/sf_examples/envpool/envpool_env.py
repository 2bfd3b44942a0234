"""EnvPool as a batched env source: a worker split steps all its envs in one C++ call, no per-env Python work.

Needs the ``envpool`` extra (``pip install 'sf-examples[envpool]'``). Env names (:data:`ENVPOOL_TASKS`):
``envpool_<game>`` for Atari (``envpool_breakout``, ``envpool_pong``, ...) and ``envpool_<robot>`` for MuJoCo
(``envpool_halfcheetah``, ``envpool_hopper``, ``envpool_walker``, ``envpool_ant``).

With ``batched_sampling`` (on by default for these envs) each worker split makes one
``envpool.make(task, env_type="gymnasium", num_envs=...)`` and steps it through :class:`EnvPoolVector`, an
:class:`sf_runtime.EnvVector` registered with :func:`sf_runtime.register_env_vector`: one ``step`` call per split
and rollout step, whatever the number of envs. Elsewhere (non-batched sampling, the env-info probe, evaluation) the
env is a pool of one, unbatched by :class:`EnvPoolSingleEnv`, so both forms see the same preprocessing and spaces.

Atari preprocessing is EnvPool's own (Mnih et al. 2015): up to 30 no-op starts, frame skip ``env_frameskip`` (4)
with max-pooling, FIRE on reset where the game needs it, 84x84 grayscale, ``env_framestack`` (4) stacked frames,
a lost life ends the learner's episode, rewards clipped to their sign, 27,000 agent steps at most. Each whole game's
unclipped score appears in the statistics as ``game_score`` (on the record of its last life). MuJoCo tasks are the
v5 envs (1000 steps, a time limit: truncated), with float32 observations.

EnvPool's envs reset one step late (gymnasium's ``NEXT_STEP`` autoreset): on the step after an episode ends the
action is ignored and the new episode's first observation comes back with reward 0. That step is marked invalid
(:attr:`sf_runtime.EnvVector.valids`) and is not counted in episode lengths.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sf_examples.atari.atari_env import ATARI_PPO_DEFAULTS
from sf_examples.mujoco.mujoco_env import MUJOCO_PPO_DEFAULTS
from sf_registry import register_env
from sf_runtime import EnvVector, register_env_vector

ATARI_GAMES: dict[str, str] = {
    "envpool_breakout": "Breakout-v5",
    "envpool_pong": "Pong-v5",
    "envpool_beamrider": "BeamRider-v5",
    "envpool_qbert": "Qbert-v5",
    "envpool_seaquest": "Seaquest-v5",
    "envpool_spaceinvaders": "SpaceInvaders-v5",
    "envpool_mspacman": "MsPacman-v5",
}
MUJOCO_ROBOTS: dict[str, str] = {
    "envpool_halfcheetah": "HalfCheetah-v5",
    "envpool_hopper": "Hopper-v5",
    "envpool_walker": "Walker2d-v5",
    "envpool_ant": "Ant-v5",
}
ENVPOOL_TASKS: dict[str, str] = {**ATARI_GAMES, **MUJOCO_ROBOTS}
"""sf env name -> EnvPool task id."""

OBS_KEY = "obs"  # the runtime's key of a plain (non-dict) observation

# The PPO settings of sf-examples' own atari_* and mujoco_* envs, sampled in batches by fewer, wider workers.
_BATCHED = {"batched_sampling": True, "num_workers": 2}
ENVPOOL_ATARI_DEFAULTS: dict[str, Any] = {
    **ATARI_PPO_DEFAULTS,
    **_BATCHED,
    "num_envs_per_worker": 16,
    "worker_num_splits": 2,
}
"""Atari PPO hyperparameters with batched sampling (the "env" layer: the command line still wins)."""

ENVPOOL_MUJOCO_DEFAULTS: dict[str, Any] = {**MUJOCO_PPO_DEFAULTS, **_BATCHED, "num_envs_per_worker": 8}
"""Continuous-control PPO hyperparameters with batched sampling."""


def _envpool() -> Any:
    try:
        import envpool
    except ImportError as exc:
        raise ImportError(
            "the EnvPool examples need envpool: install the extra with pip install 'sf-examples[envpool]'"
        ) from exc
    return envpool


def envpool_task(full_env_name: str) -> str:
    """The EnvPool task id of an ``envpool_*`` name.

    Raises:
        ValueError: The name is not one of :data:`ENVPOOL_TASKS`.
    """
    task = ENVPOOL_TASKS.get(full_env_name)
    if task is None:
        raise ValueError(f"unknown EnvPool env {full_env_name!r}; the EnvPool envs are {sorted(ENVPOOL_TASKS)}")
    return task


def _cfg_int(cfg: Any, name: str, default: int) -> int:
    value = getattr(cfg, name, None) if cfg is not None else None
    return default if value is None else int(value)


def make_pool(full_env_name: str, cfg: Any, num_envs: int, seed: int | None) -> Any:
    """``envpool.make`` of the env's task with sf's settings, stepping ``num_envs`` envs in sync (one batch)."""
    task = envpool_task(full_env_name)
    envpool = _envpool()
    kwargs: dict[str, Any] = {
        "env_type": "gymnasium",
        "num_envs": num_envs,
        "batch_size": num_envs,
        "num_threads": _cfg_int(cfg, "envpool_num_threads", 0),
        "seed": 0 if seed is None else int(seed) % (2**31),
    }
    if full_env_name in ATARI_GAMES:
        kwargs.update(
            frame_skip=_cfg_int(cfg, "env_frameskip", 4),
            stack_num=_cfg_int(cfg, "env_framestack", 4),
            episodic_life=True,
            reward_clip=True,
            noop_max=30,
            repeat_action_probability=0.0,
        )
    return envpool.make(task, **kwargs)


def _float32_box(box: spaces.Box) -> spaces.Box:
    return spaces.Box(box.low.astype(np.float32), box.high.astype(np.float32), box.shape, np.float32)


def _spaces(pool: Any) -> tuple[spaces.Box, spaces.Space]:
    """The per-env spaces sf uses: float observations and actions become float32."""
    obs_space, action_space = pool.observation_space, pool.action_space
    if isinstance(obs_space, spaces.Box) and np.issubdtype(obs_space.dtype, np.floating):
        obs_space = _float32_box(obs_space)
    if isinstance(action_space, spaces.Box):
        action_space = _float32_box(action_space)
    return obs_space, action_space


class _EpisodeBook:
    """Per-env episode returns and lengths (valid steps only), and Atari's whole-game scores, for a batch of envs."""

    def __init__(self, num_envs: int, frames_per_step: int, atari: bool):
        self.atari = atari
        self.frames_per_step = frames_per_step
        self.prev_done = np.zeros(num_envs, dtype=bool)
        self.valids = np.ones(num_envs, dtype=bool)
        self.reward = np.zeros(num_envs, dtype=np.float64)
        self.length = np.zeros(num_envs, dtype=np.int64)
        self.game_score = np.zeros(num_envs, dtype=np.float64)
        self.game_steps = np.zeros(num_envs, dtype=np.int64)

    def reset(self) -> None:
        self.prev_done[:] = False
        self.valids[:] = True
        self.reward[:] = 0.0
        self.length[:] = 0
        self.game_score[:] = 0.0
        self.game_steps[:] = 0

    def step(self, rewards: np.ndarray, done: np.ndarray, info: dict[str, Any], first_row: int = 0) -> list[dict]:
        """Books one step of every env; returns the records of the episodes that ended on it."""
        np.logical_not(self.prev_done, out=self.valids)
        self.length += self.valids
        self.reward += rewards
        if self.atari:
            self.game_score += info["reward"]
            self.game_steps += self.valids
        self.prev_done[:] = done
        records: list[dict] = []
        if not done.any():
            return records
        ended = np.flatnonzero(done)
        game_over = info["terminated"] if self.atari else None
        for row in ended.tolist():
            record: dict[str, Any] = {}
            if self.atari and game_over[row]:
                record["game_score"] = float(self.game_score[row])
                record["game_frames"] = int(self.game_steps[row]) * self.frames_per_step
                self.game_score[row] = 0.0
                self.game_steps[row] = 0
            record["reward"] = float(self.reward[row])
            record["length"] = int(self.length[row])
            record["policy_agent"] = first_row + row
            records.append(record)
        self.reward[ended] = 0.0
        self.length[ended] = 0
        return records


class EnvPoolVector(EnvVector):
    """The envs of one worker split as one EnvPool: ``reset`` and ``step`` are one call each for all of them.

    Args:
        pool: the EnvPool (``env_type="gymnasium"``, sync: ``batch_size == num_envs``).
        full_env_name: the sf env name.
        env_ids: the sf ``env_id`` of each env.
        frames_per_step: env frames per agent step (Atari's frame skip), for ``game_frames``.
    """

    def __init__(self, pool: Any, full_env_name: str, env_ids: list[int], frames_per_step: int = 1):
        obs_space, action_space = _spaces(pool)
        super().__init__(
            full_env_name,
            len(env_ids),
            len(env_ids),
            spaces.Dict({OBS_KEY: obs_space}),
            action_space,
            True,
            list(env_ids),
        )
        self.pool = pool
        self._book = _EpisodeBook(len(env_ids), frames_per_step, full_env_name in ATARI_GAMES)
        self.valids = self._book.valids
        self._order = np.arange(len(env_ids))
        self._box_actions = isinstance(action_space, spaces.Box)

    def _write(self, obs: np.ndarray, info: dict[str, Any], out: dict[str, np.ndarray]) -> None:
        env_id = info.get("env_id")
        if env_id is not None and not np.array_equal(env_id, self._order):  # sync pools return them in order
            raise RuntimeError(f"EnvPool returned the envs in the order {env_id}; expected {self._order}")
        np.copyto(out[OBS_KEY], obs, casting="same_kind")

    def reset(self, obs_out=None):
        out = self._out(obs_out)
        obs, info = self.pool.reset()
        self._write(obs, info, out)
        self._book.reset()
        return out

    def step(self, actions, obs_out=None):
        out = self._out(obs_out)
        actions = np.asarray(actions)
        if self._box_actions and actions.dtype != np.float64:
            actions = actions.astype(np.float64)
        obs, rewards, terminated, truncated, info = self.pool.step(actions)
        self._write(obs, info, out)
        self.rewards = rewards.astype(np.float32, copy=False)
        self.terminated = terminated.astype(bool, copy=False)
        self.truncated = truncated.astype(bool, copy=False)
        episodes = self._book.step(self.rewards, self.terminated | self.truncated, info)
        return out, self.rewards, self.terminated, self.truncated, episodes

    def close(self):
        self.pool.close()


class EnvPoolSingleEnv(gym.Env):
    """One env of the task: an EnvPool of one, unbatched, for non-batched sampling, the env probe and evaluation.

    Its episodes end as the vector's (a lost Atari life ends one, rewards clipped), and its last step of a whole game
    reports ``episode_extra_stats`` with ``game_score`` and ``game_frames``. The reset step that EnvPool inserts
    after an episode is taken inside ``reset()``.
    """

    metadata = {"render_modes": []}

    def __init__(self, full_env_name: str, cfg: Any = None, seed: int | None = None):
        self.pool = make_pool(full_env_name, cfg, 1, seed)
        self.observation_space, self.action_space = _spaces(self.pool)
        self.atari = full_env_name in ATARI_GAMES
        self._frames = _cfg_int(cfg, "env_frameskip", 4) if self.atari else 1
        self._needs_reset = True
        self._game_score = 0.0
        self._game_steps = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if self._needs_reset:
            obs, _ = self.pool.reset()
            self._needs_reset = False
        else:  # EnvPool's own reset step after the previous episode: the action is ignored
            obs, *_ = self.pool.step(self._noop())
        return np.asarray(obs[0], dtype=self.observation_space.dtype), {}

    def _noop(self) -> np.ndarray:
        if isinstance(self.action_space, spaces.Box):
            return np.zeros((1, *self.action_space.shape), np.float64)
        return np.zeros(1, np.int64)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        batch = np.asarray(action)[None]
        if isinstance(self.action_space, spaces.Box):
            batch = batch.astype(np.float64)
        obs, reward, terminated, truncated, info = self.pool.step(batch)
        out_info: dict[str, Any] = {}
        if self.atari:
            self._game_score += float(info["reward"][0])
            self._game_steps += 1
            if info["terminated"][0]:
                out_info["episode_extra_stats"] = {
                    "game_score": self._game_score,
                    "game_frames": self._game_steps * self._frames,
                }
                self._game_score, self._game_steps = 0.0, 0
        return (
            np.asarray(obs[0], dtype=self.observation_space.dtype),
            float(reward[0]),
            bool(terminated[0]),
            bool(truncated[0]),
            out_info,
        )

    def close(self) -> None:
        self.pool.close()


def make_envpool_env(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """The env factory: one env of the task (:class:`EnvPoolSingleEnv`); EnvPool renders nothing here."""
    envpool_task(full_env_name)
    env_id = getattr(env_config, "env_id", 0) if env_config is not None else 0
    seed = getattr(cfg, "seed", None) if cfg is not None else None
    return EnvPoolSingleEnv(full_env_name, cfg, None if seed is None else int(seed) + int(env_id or 0))


def make_envpool_vector(full_env_name: str, cfg: Any, env_ids: list[int], seed: int | None) -> EnvPoolVector:
    """The vector factory (:func:`sf_runtime.register_env_vector`): one EnvPool for the split's envs."""
    pool = make_pool(full_env_name, cfg, len(env_ids), seed)
    frames = _cfg_int(cfg, "env_frameskip", 4) if full_env_name in ATARI_GAMES else 1
    return EnvPoolVector(pool, full_env_name, env_ids, frames_per_step=frames)


def add_envpool_args(_env: str, parser: Any, evaluation: bool = False) -> None:
    """``--envpool_num_threads``: EnvPool's threads per pool (0: EnvPool's choice, one per env up to the cores)."""
    parser.add_argument(
        "--envpool_num_threads", default=0, type=int, help="Threads of each EnvPool (0: EnvPool's default)"
    )


def envpool_override_defaults(env: str, parser: Any) -> None:
    """Applies :data:`ENVPOOL_ATARI_DEFAULTS` or :data:`ENVPOOL_MUJOCO_DEFAULTS`."""
    parser.set_defaults(**(ENVPOOL_ATARI_DEFAULTS if env in ATARI_GAMES else ENVPOOL_MUJOCO_DEFAULTS))


def register_envpool_envs() -> None:
    """Registers every ``envpool_*`` env with its defaults, and its vector factory for batched sampling."""
    for name in ENVPOOL_TASKS:
        register_env(
            name,
            make_envpool_env,
            add_extra_params_func=add_envpool_args,
            env_override_defaults_func=envpool_override_defaults,
        )
        register_env_vector(name, make_envpool_vector)


# Imported as an --env-module (sf-cli) or through the sf.envs entry point, the module registers its envs.
register_envpool_envs()
