"""Env vector factories: envs that come as a vector already (EnvPool, a simulator's own batch), for batched sampling.

Batched sampling steps all envs of a worker split with one :class:`~sf_runtime.envs.vector.EnvVector`. By default
that vector is built from single envs (a loop, or gymnasium's own vector form of a gymnasium id). An env whose
source already steps many envs in one call registers a factory of its own vector::

    register_env_vector("envpool_breakout", make_envpool_vector)

``make_vector_func(full_env_name, cfg, env_ids, seed)`` returns an :class:`EnvVector` of ``len(env_ids)`` envs
(``batched=True``; its spaces must be those of the single env that the env's registered factory makes, which
non-batched sampling, the env-info probe and evaluation still use). ``seed`` is the seed of the first env (None when
``cfg.seed`` is None). Registrations reach the run's child processes with the env registrations
(:mod:`sf_runtime.registrations`); a factory defined in a module that registers it on import is found there too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_FACTORIES: dict[str, Callable[..., Any]] = {}


def register_env_vector(name: str, make_vector_func: Callable[..., Any]) -> None:
    """Registers the vector factory of env ``name``, used by batched sampling instead of a vector of single envs.

    Args:
        name: the env name (``--env``); the env itself must also be registered (``register_env``) or declared by an
            entry point, for the single env that non-batched sampling, the env-info probe and evaluation make.
        make_vector_func: ``make_vector_func(full_env_name, cfg, env_ids, seed) -> EnvVector``, a function defined
            at the top level of a module (child processes import it by name).

    Raises:
        TypeError: make_vector_func is not callable.
    """
    if not callable(make_vector_func):
        raise TypeError(f"the vector factory of env {name!r} must be callable, got {make_vector_func!r}")
    with _LOCK:
        _FACTORIES[name] = make_vector_func


def registered_env_vectors() -> dict[str, Callable[..., Any]]:
    """Every registered vector factory, by env name."""
    with _LOCK:
        return dict(_FACTORIES)


def env_vector_factory(name: str) -> Callable[..., Any] | None:
    """The vector factory of env ``name``, or None.

    A name not registered here may be an entry-point env whose module registers its vector when imported: the
    env's factory is loaded (imported) once before giving up.
    """
    with _LOCK:
        factory = _FACTORIES.get(name)
    if factory is not None:
        return factory
    import sf_registry

    try:
        sf_registry.env_spec(name, load=True)
    except Exception:  # an unknown or broken env is reported where the env is made
        log.debug("env %s: loading its spec to look for a vector factory failed", name, exc_info=True)
        return None
    with _LOCK:
        return _FACTORIES.get(name)
