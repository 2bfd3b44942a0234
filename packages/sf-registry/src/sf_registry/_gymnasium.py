"""The fallback to gymnasium's own registry: any gymnasium env id can be made with no registration."""

from __future__ import annotations

from typing import Any

import gymnasium

from sf_registry._references import describe_callable
from sf_registry._spec import EnvSpec


def make_gymnasium_env(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """The factory of every gymnasium env: ``gymnasium.make(full_env_name, render_mode=render_mode)``.

    cfg and env_config are accepted for the common factory signature and not used.
    """
    return gymnasium.make(full_env_name, render_mode=render_mode)


def gymnasium_env_ids() -> list[str]:
    """The env ids in gymnasium's registry now (packages may add to it when imported)."""
    return list(gymnasium.registry)


def gymnasium_spec(name: str) -> EnvSpec | None:
    """The EnvSpec for a gymnasium env id, or None when gymnasium does not know it."""
    gym_spec = gymnasium.registry.get(name)
    if gym_spec is None:
        return None
    entry_point = gym_spec.entry_point
    origin = describe_callable(entry_point) if entry_point is not None else "gymnasium"
    return EnvSpec(name=name, make_env_func=make_gymnasium_env, source="gymnasium", origin=origin)
