"""Lazy ``"module:attr"`` references to callables: checking their form, resolving them, describing callables."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

from sf_registry._errors import InvalidEnvFactoryError

_REFERENCE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


def is_reference(value: object) -> bool:
    """True when value is a string of the form ``"package.module:attr"`` (attr may be dotted)."""
    return isinstance(value, str) and _REFERENCE.match(value) is not None


def resolve_reference(reference: str, what: str) -> Callable[..., Any]:
    """Imports the module of a ``"module:attr"`` reference and returns the callable it names.

    Args:
        reference: The reference, e.g. ``"my_pkg.envs:make_my_env"``.
        what: What the reference is for, used in error messages (e.g. ``"factory of env 'my_env'"``).

    Raises:
        InvalidEnvFactoryError: The module cannot be imported, has no such attribute, or it is not callable.
    """
    module_name, _, attr_path = reference.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise InvalidEnvFactoryError(
            f"{what}: cannot import module {module_name!r} of reference {reference!r}: {type(exc).__name__}: {exc}"
        ) from exc
    for attr in attr_path.split("."):
        try:
            target = getattr(target, attr)
        except AttributeError as exc:
            raise InvalidEnvFactoryError(
                f"{what}: reference {reference!r} names {attr!r}, which {module_name!r} does not define"
            ) from exc
    if not callable(target):
        raise InvalidEnvFactoryError(f"{what}: reference {reference!r} names a {type(target).__name__}, not a callable")
    return target


def describe_callable(func: Callable[..., Any] | str) -> str:
    """``"module:qualname"`` of a callable (a reference string is returned as is)."""
    if isinstance(func, str):
        return func
    module = getattr(func, "__module__", None) or "?"
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{module}:{qualname}"


def module_of(func: Callable[..., Any] | str) -> str:
    """The module a callable (or a ``"module:attr"`` reference) comes from."""
    return describe_callable(func).partition(":")[0]


def same_callable(a: Callable[..., Any] | str | None, b: Callable[..., Any] | str | None) -> bool:
    """True when a and b are the same callable, or name the same module-level one.

    A script that re-registers its env on every start (or a re-imported module) passes an equal function;
    lambdas and local functions have no unique name, so they only match themselves.
    """
    if a is b or a == b:
        return True
    if a is None or b is None:
        return False
    description = describe_callable(a)
    return "<" not in description and description == describe_callable(b)
