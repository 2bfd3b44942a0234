"""The runtime's view of the env registry (sf_registry), in one place."""

from __future__ import annotations

from typing import Any

import gymnasium

try:  # sf_registry is being written concurrently; until make_env lands, plain gymnasium ids work
    from sf_registry import make_env as _sf_make_env
except ImportError:  # pragma: no cover - temporary
    _sf_make_env = None


def make_registered_env(full_env_name: str, cfg: Any, env_config: Any, render_mode: str | None) -> Any:
    """Calls the registered factory of full_env_name (gymnasium's registry for plain gymnasium ids)."""
    if _sf_make_env is not None:
        return _sf_make_env(full_env_name, cfg=cfg, env_config=env_config, render_mode=render_mode)
    return gymnasium.make(full_env_name, render_mode=render_mode)


def make_env_config(worker_index: int, vector_index: int, env_id: int) -> Any:
    """The EnvConfig handed to factories (``sf_registry.EnvConfig``: attribute and key access)."""
    try:
        from sf_registry import EnvConfig
    except ImportError:  # pragma: no cover - temporary
        return {"worker_index": worker_index, "vector_index": vector_index, "env_id": env_id}
    return EnvConfig(worker_index=worker_index, vector_index=vector_index, env_id=env_id)


def is_registered_in_sf(full_env_name: str) -> bool:
    """True when full_env_name was registered with ``sf_registry.register_env`` (not a gymnasium fallback)."""
    try:
        from sf_registry import env_spec
    except ImportError:  # pragma: no cover - temporary
        return False
    try:
        env_spec(full_env_name)
    except Exception:
        return False
    return True


def registered_factory(full_env_name: str) -> Any:
    """The factory registered for full_env_name with sf_registry, or None."""
    try:
        from sf_registry import env_spec
    except ImportError:  # pragma: no cover - temporary
        return None
    try:
        spec = env_spec(full_env_name)
    except Exception:
        return None
    return getattr(spec, "make_env_func", None)
