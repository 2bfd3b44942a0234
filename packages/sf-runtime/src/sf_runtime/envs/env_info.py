"""The env-info probe: create one env in a separate process and read what the trainer must know about it.

Env creation may be heavy (simulators, GPUs, large imports) and may leave state behind, so the main process never
creates an env itself: :func:`probe_env_info` starts a fresh ``spawn`` process (the parallel runner passes its fork
server instead, whose children start with torch imported), creates env 0 there, and sends back an :class:`EnvInfo`.
What this process registered (envs, model factories) is sent along and restored there
(:mod:`sf_runtime.registrations`), so envs registered by a training script's ``main()`` are found in the child.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import traceback
from pathlib import Path
from typing import Any

import attrs
from gymnasium import spaces

from sf_config import experiment_dir
from sf_runtime.envs.create import cfg_value, create_env
from sf_runtime.envs.interfaces import find_reward_shaping_interface
from sf_runtime.envs.registry import make_env_config
from sf_runtime.envs.vector import native_vector_available
from sf_runtime.errors import SetupError
from sf_runtime.registrations import Registrations, missing_main_guard_error, snapshot_registrations

log = logging.getLogger(__name__)

ENV_INFO_PROTOCOL_VERSION = 1
PROBE_TIMEOUT_S = 600.0


class EnvProbeError(RuntimeError):
    """Probing the env failed; the message holds the error raised while creating or resetting it."""


@attrs.frozen
class EnvInfo:
    """What the trainer needs to know about an env, read once.

    Attributes:
        obs_space: per-agent observation space (a ``gymnasium.spaces.Dict``; a plain space becomes ``{"obs": ...}``).
        action_space: per-agent action space.
        num_agents: agents per env instance.
        is_multiagent: whether the env is a native multi-agent env.
        frameskip: env frames per agent step (``cfg.env_frameskip``), to count env steps and FPS.
        reward_shaping_scheme: the env's default reward shaping, if it implements the reward-shaping interface.
        native_vector: whether gymnasium has a native vector implementation of the env that batched sampling may use
            (``make_env_vector`` still steps single envs in a loop if that implementation has other spaces).
        env_info_protocol_version: version of this record, for the on-disk cache.
    """

    obs_space: spaces.Dict
    action_space: spaces.Space
    num_agents: int
    is_multiagent: bool = False
    frameskip: int = 1
    reward_shaping_scheme: dict[str, Any] | None = None
    native_vector: bool = False
    env_info_protocol_version: int = ENV_INFO_PROTOCOL_VERSION


def extract_env_info(env: Any, cfg: Any) -> EnvInfo:
    """Reads an :class:`EnvInfo` from a :class:`~sf_runtime.envs.multi_agent.MultiAgentEnv` (in this process)."""
    shaping = find_reward_shaping_interface(env.env)
    return EnvInfo(
        obs_space=env.observation_space,
        action_space=env.action_space,
        num_agents=env.num_agents,
        is_multiagent=env.is_multiagent,
        frameskip=int(cfg_value(cfg, "env_frameskip", 1) or 1),
        reward_shaping_scheme=shaping.get_default_reward_shaping() if shaping is not None else None,
        native_vector=native_vector_available(env.full_env_name, cfg),
    )


def _probe_in_child(conn: Any, full_env_name: str, cfg: Any, registrations: Registrations) -> None:
    """Runs in the probe process: restore the registrations, create and reset env 0, send back EnvInfo or the error."""
    try:
        registrations.restore()
        env = create_env(full_env_name, cfg, make_env_config(0, 0, 0))
        try:
            env.reset()
            info = extract_env_info(env, cfg)
        finally:
            env.close()
        conn.send(("ok", info))
    except SetupError as exc:  # e.g. a parameter the env cannot honour: the same error as in the caller's process
        conn.send(("setup_error", str(exc)))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


def _cache_path(cfg: Any) -> Path:
    safe_name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(cfg.env))
    return experiment_dir(cfg) / f".env_info_{safe_name}.pkl"


def probe_env_info(cfg: Any, timeout: float = PROBE_TIMEOUT_S, mp_context: Any = None) -> EnvInfo:
    """Creates env ``cfg.env`` once in a separate process and returns its :class:`EnvInfo`.

    With ``cfg.use_env_info_cache`` the result is kept in ``train_dir/<experiment>/.env_info_<env>.pkl`` and read from
    there next time (delete the file after changing the env's spaces).

    Args:
        cfg: the experiment configuration.
        timeout: seconds to wait for the probe process.
        mp_context: the multiprocessing context of the probe process; a fresh ``spawn`` process when None. The
            parallel runner passes its fork server, whose children start with torch and the env modules imported.

    Raises:
        EnvProbeError: the env could not be created or reset; the message includes the child's traceback.
    """
    use_cache = bool(cfg_value(cfg, "use_env_info_cache", False))
    if use_cache:
        cached = _read_cache(cfg)
        if cached is not None:
            return cached

    full_env_name = cfg.env
    registrations = snapshot_registrations(full_env_name)
    if full_env_name in registrations.unsendable:
        raise EnvProbeError(
            f"The factory registered for env {full_env_name!r} cannot be sent to the probe process "
            f"({registrations.unsendable[full_env_name]}); register a module-level function, not a lambda or a "
            "local function."
        )

    ctx = mp_context if mp_context is not None else multiprocessing.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_probe_in_child, args=(child_conn, full_env_name, cfg, registrations), name="sf-env-probe", daemon=True
    )
    process.start()
    child_conn.close()
    try:
        if not parent_conn.poll(timeout):
            raise EnvProbeError(f"Probing env {full_env_name!r} took longer than {timeout:.0f} s (no answer).")
        status, payload = parent_conn.recv()
    except EOFError:
        process.join(5)
        guard_error = missing_main_guard_error(process.exitcode)
        if guard_error is not None:
            raise guard_error from None
        raise EnvProbeError(
            f"The probe process for env {full_env_name!r} died without an answer (exit code {process.exitcode})."
        ) from None
    finally:
        parent_conn.close()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()
    if status == "setup_error":
        raise SetupError(payload)
    if status != "ok":
        raise EnvProbeError(f"Creating env {full_env_name!r} in the probe process failed: {payload}")
    info: EnvInfo = payload
    log.debug("Env info of %s (probe pid %s): %s", full_env_name, process.pid, info)
    if use_cache:
        _write_cache(cfg, info)
    return info


def _read_cache(cfg: Any) -> EnvInfo | None:
    path = _cache_path(cfg)
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as f:
            info = pickle.load(f)
    except Exception as exc:
        log.warning("Ignoring unreadable env-info cache %s (%s)", path, exc)
        return None
    if not isinstance(info, EnvInfo) or info.env_info_protocol_version != ENV_INFO_PROTOCOL_VERSION:
        log.warning("Ignoring env-info cache %s written by another version", path)
        return None
    log.info("Env info of %s read from cache %s", cfg.env, path)
    return info


def _write_cache(cfg: Any, info: EnvInfo) -> None:
    path = _cache_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        pickle.dump(info, f)
    os.replace(tmp, path)
