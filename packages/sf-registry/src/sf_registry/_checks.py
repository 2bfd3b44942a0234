"""Checks on what a factory returns: a gymnasium env whose observation and action spaces are gymnasium spaces."""

from __future__ import annotations

import contextlib
from typing import Any

import gymnasium

from sf_registry._errors import InvalidEnvError

_MISSING = object()


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"a {type(value).__module__}.{type(value).__qualname__} ({text})"


def check_env(env: Any, name: str, factory_description: str) -> gymnasium.Env:
    """Returns env when it is a gymnasium env with gymnasium spaces, else closes it (if it can) and raises.

    Args:
        env: What the factory returned.
        name: The env name, for the message.
        factory_description: ``"module:qualname"`` of the factory, for the message.

    Raises:
        InvalidEnvError: env is None or not a ``gymnasium.Env``, or one of its spaces is missing or not a
            ``gymnasium.spaces.Space``.
    """
    if not isinstance(env, gymnasium.Env):
        hint = " (did the factory forget to return the env?)" if env is None else ""
        raise InvalidEnvError(
            f"the factory {factory_description} of env {name!r} returned {_describe(env)}{hint}; "
            "a factory must return a gymnasium.Env"
        )
    for attribute in ("observation_space", "action_space"):
        space = getattr(env, attribute, _MISSING)
        if not isinstance(space, gymnasium.spaces.Space):
            _close_quietly(env)
            found = "the env has no such attribute" if space is _MISSING else _describe(space)
            raise InvalidEnvError(
                f"env {name!r} (made by {factory_description}) has an {attribute} that is not a "
                f"gymnasium.spaces.Space: {found}; set {attribute} to a gymnasium space such as "
                "gymnasium.spaces.Box or gymnasium.spaces.Discrete"
            )
    return env


def _close_quietly(env: gymnasium.Env) -> None:
    # The env is rejected anyway; the error about its space is the one worth reporting.
    with contextlib.suppress(Exception):
        env.close()
