"""``create_env``: the one way the runtime makes an environment (factory, checks, wrappers, seed)."""

from __future__ import annotations

from typing import Any

from sf_config import Config
from sf_runtime.envs.frameskip import ActionRepeat, gymnasium_env_skips_frames
from sf_runtime.envs.multi_agent import MultiAgentEnv, is_native_multi_agent
from sf_runtime.envs.registry import is_registered_in_sf, make_registered_env
from sf_runtime.envs.seeding import env_seed
from sf_runtime.envs.validation import check_action_space, check_created_env, check_observation_space
from sf_runtime.envs.wrappers import DecorrelatingReset, EpisodeCounterWrapper, PixelFormatChwWrapper
from sf_runtime.errors import SetupError


def cfg_value(cfg: Any, name: str, default: Any) -> Any:
    """Reads ``cfg.name``, or default when cfg is None or lacks the parameter (factories may get ``cfg=None``)."""
    if cfg is None:
        return default
    try:
        return getattr(cfg, name)
    except (AttributeError, KeyError):
        return default


class _ReadRecordingConfig(Config):
    """A view of the cfg that notes each parameter read from it (given to env factories; see :func:`factory_cfg`)."""

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_"):
            self._reads.add(name)
        return super().__getattr__(name)

    def __getitem__(self, key: str) -> Any:
        self._reads.add(key)
        return super().__getitem__(key)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        object.__setattr__(self, "_reads", set())


def factory_cfg(cfg: Any) -> tuple[Any, set[str] | None]:
    """The cfg to give an env factory, and the set that collects the parameters it reads (None: not recorded).

    The view shares the cfg's values (nothing is copied); a cfg that is not a :class:`~sf_config.Config` is given as
    it is.
    """
    if not isinstance(cfg, Config):
        return cfg, None
    view = _ReadRecordingConfig.__new__(_ReadRecordingConfig)
    view.__setstate__(cfg.__getstate__())
    return view, view._reads


def check_framestack_read(full_env_name: str, cfg: Any, reads: set[str] | None) -> None:
    """Refuse ``env_framestack`` above 1 for an env whose factory did not read it while making the env.

    sf stacks no frames itself: factories do, from ``cfg.env_framestack`` (sf-examples' Atari and EnvPool envs).

    Raises:
        SetupError: ``env_framestack`` would be ignored.
    """
    stack = cfg_value(cfg, "env_framestack", 1)
    if stack in (None, 1) or reads is None or "env_framestack" in reads:
        return
    why = (
        "its factory does not read cfg.env_framestack"
        if is_registered_in_sf(full_env_name)
        else "it is a plain gymnasium id, made without stacking frames"
    )
    raise SetupError(
        f"env_framestack={stack} would be ignored by env {full_env_name!r}: {why}. Leave env_framestack at 1 for "
        "this env, or stack frames in its factory from cfg.env_framestack (as sf-examples' Atari and EnvPool envs do)."
    )


def env_id_of(env_config: Any) -> int:
    """The env's unique id from its EnvConfig (attribute or key access), 0 when there is none."""
    if env_config is None:
        return 0
    value = getattr(env_config, "env_id", None)
    if value is None and hasattr(env_config, "get"):
        value = env_config.get("env_id")
    return int(value or 0)


def sf_applies_frameskip(full_env_name: str, cfg: Any) -> int:
    """The action repeat sf adds itself for this env: ``env_frameskip`` for plain gymnasium ids, else 1.

    See :mod:`sf_runtime.envs.frameskip` for the rule.
    """
    frameskip = int(cfg_value(cfg, "env_frameskip", 1) or 1)
    if frameskip <= 1 or is_registered_in_sf(full_env_name) or gymnasium_env_skips_frames(full_env_name):
        return 1
    return frameskip


def create_env(
    full_env_name: str,
    cfg: Any = None,
    env_config: Any = None,
    render_mode: str | None = None,
    decorrelate: bool = False,
):
    """Creates an env through the registry and puts it in the runtime's multi-agent form.

    Steps: the registered factory (or gymnasium's registry, for plain gymnasium ids) makes the env; a factory that
    returns None, an unsupported observation or action space is an :class:`EnvError` naming the env, an
    ``env_framestack`` it did not read a :class:`~sf_runtime.errors.SetupError`; sf's action
    repeat is added where ``env_frameskip`` asks for it (see :mod:`sf_runtime.envs.frameskip`); the result is wrapped
    into a :class:`MultiAgentEnv` seeded from ``cfg.seed`` and the env's ``env_id`` (a random seed when ``cfg.seed``
    is None).

    Args:
        full_env_name: the env name as given with ``--env``.
        cfg: the experiment configuration (may be None).
        env_config: the env's EnvConfig (``worker_index``, ``vector_index``, ``env_id``), or None.
        render_mode: gymnasium render mode, or None.
        decorrelate: staggered random steps after the first reset (rollout workers with
            ``decorrelate_envs_on_one_worker``; see :func:`_apply_env_parameters`).

    Returns:
        A :class:`MultiAgentEnv`.
    """
    made_with, reads = factory_cfg(cfg)
    env = make_registered_env(full_env_name, made_with, env_config, render_mode)
    check_created_env(env, full_env_name)
    check_framestack_read(full_env_name, cfg, reads)
    check_observation_space(env.observation_space, full_env_name)
    check_action_space(env.action_space, full_env_name)
    frameskip = sf_applies_frameskip(full_env_name, cfg)
    if frameskip > 1 and not is_native_multi_agent(env):
        env = ActionRepeat(env, frameskip)
    seed = env_seed(cfg_value(cfg, "seed", None), env_id_of(env_config))
    env = _apply_env_parameters(env, cfg, env_config, seed, decorrelate)
    return MultiAgentEnv(env, full_env_name, seed=seed)


def _records_episode_statistics(env: Any) -> bool:
    """Whether the factory wrapped the env in ``RecordEpisodeStatistics`` itself (a second one would fail its check)."""
    import gymnasium

    while isinstance(env, gymnasium.Wrapper):
        if isinstance(env, gymnasium.wrappers.RecordEpisodeStatistics):
            return True
        env = env.env
    return False


def _apply_env_parameters(env: Any, cfg: Any, env_config: Any, seed: int | None, decorrelate: bool = False) -> Any:
    """The wrappers that the env parameters of the cfg ask for, on a single-agent env.

    * ``pixel_format="HWC"``: the env returns ``(H, W, C)`` images; they are transposed to ``(C, H, W)``, the layout
      of the conv encoders (``"CHW"``, the default, takes observations as they are).
    * ``use_record_episode_statistics``: gymnasium's ``RecordEpisodeStatistics`` (unless the factory added it, as
      Sample Factory's Atari example does); its ``info["episode"]`` return and length are the episode statistics
      (:func:`sf_runtime.envs.episode_stats.episode_record`).
    * ``episode_counter``: each finished episode reports its number in this env (``episode_number``).
    * ``decorrelate`` (rollout workers pass ``decorrelate_envs_on_one_worker``): on its first reset, the env at
      ``vector_index`` i takes a random number (up to ``i * DecorrelatingReset.STEPS_PER_INDEX``) of random actions,
      so that the envs of one worker do not run their episodes in lockstep.
    """
    if is_native_multi_agent(env) or cfg is None:
        return env
    import gymnasium

    pixel_format = cfg_value(cfg, "pixel_format", "CHW")
    if pixel_format not in ("CHW", "HWC"):
        raise ValueError(f"pixel_format must be CHW or HWC, got {pixel_format!r}")
    shape = getattr(env.observation_space, "shape", None)
    if pixel_format == "HWC" and shape is not None and len(shape) == 3:
        env = PixelFormatChwWrapper(env)
    if cfg_value(cfg, "use_record_episode_statistics", False) and not _records_episode_statistics(env):
        env = gymnasium.wrappers.RecordEpisodeStatistics(env)
    if cfg_value(cfg, "episode_counter", False):
        env = EpisodeCounterWrapper(env)
    vector_index = int(getattr(env_config, "vector_index", 0) or 0) if env_config is not None else 0
    if decorrelate and vector_index > 0:
        env = DecorrelatingReset(env, vector_index, seed)
    return env
