"""The runtime's view of the env registry (sf_registry), in one place."""

from __future__ import annotations

from typing import Any

from sf_registry import EnvConfig, EnvRegistryError, env_spec, make_env

# Where a name can be found in sf_registry; "gymnasium" means the registry's fallback to a plain gymnasium id.
_SF_SOURCES = ("registered", "entry point")


def make_registered_env(full_env_name: str, cfg: Any, env_config: Any, render_mode: str | None) -> Any:
    """Calls the factory of full_env_name through sf_registry (gymnasium's registry for plain gymnasium ids).

    sf_registry calls the factory with four positional arguments, as Sample Factory 2 does.
    """
    return make_env(full_env_name, cfg, env_config, render_mode)


def make_env_config(worker_index: int, vector_index: int, env_id: int) -> EnvConfig:
    """The EnvConfig handed to factories (attribute and key access)."""
    return EnvConfig(worker_index=worker_index, vector_index=vector_index, env_id=env_id)


def _source(full_env_name: str) -> str | None:
    try:
        return env_spec(full_env_name).source
    except EnvRegistryError:
        return None


def is_registered_in_sf(full_env_name: str) -> bool:
    """True when full_env_name has an sf factory (register_env or an entry point), not only a gymnasium id."""
    return _source(full_env_name) in _SF_SOURCES
