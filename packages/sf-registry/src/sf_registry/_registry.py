"""The env registry: register factories by name, look names up, list every env, make envs with checks.

Lookup order for a name: envs registered with :func:`register_env`, then envs declared by ``sf.envs`` entry points,
then gymnasium's own registry.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import threading
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import gymnasium

from sf_registry._checks import check_env
from sf_registry._discovery import ENTRY_POINT_GROUP, discover_entry_point_envs
from sf_registry._errors import (
    EnvNotFoundError,
    EnvRegistryWarning,
    InvalidEnvFactoryError,
    InvalidEnvNameError,
)
from sf_registry._gymnasium import gymnasium_env_ids, gymnasium_spec
from sf_registry._references import describe_callable, is_reference, module_of, same_callable
from sf_registry._spec import SOURCES, EnvSpec

FACTORY_SIGNATURE = "make_env_func(full_env_name, cfg, env_config, render_mode)"
"""How the registry calls every factory: four positional arguments, whatever the factory names its parameters."""

_FACTORY_EXAMPLE = "def make_my_env(full_env_name, cfg=None, env_config=None, render_mode=None)"


class _Registry:
    """Registered and entry-point envs of this process (gymnasium keeps its own registry)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._registered: dict[str, EnvSpec] = {}
        self._entry_points: dict[str, EnvSpec] | None = None  # scanned on first need

    def register(
        self,
        name: str,
        make_env_func: Callable[..., Any] | str,
        add_extra_params_func: Callable[..., Any] | None,
        env_override_defaults_func: Callable[..., Any] | None,
    ) -> EnvSpec:
        _check_name(name)
        _check_factory(make_env_func, name)
        _check_hook(
            add_extra_params_func,
            "add_extra_params_func",
            "add_extra_params_func(env_name, parser, evaluation=False)",
            name,
        )
        _check_hook(
            env_override_defaults_func,
            "env_override_defaults_func",
            "env_override_defaults_func(env_name, parser)",
            name,
        )
        spec = EnvSpec(
            name=name,
            make_env_func=make_env_func,
            add_extra_params_func=add_extra_params_func,
            env_override_defaults_func=env_override_defaults_func,
            source="registered",
            origin=module_of(make_env_func),
        )
        with self._lock:
            previous = self._registered.get(name)
            if previous is not None and not same_callable(previous.make_env_func, make_env_func):
                warnings.warn(
                    f"env {name!r} was registered with factory {describe_callable(previous.make_env_func)}; "
                    f"replacing it with {describe_callable(make_env_func)}",
                    EnvRegistryWarning,
                    stacklevel=3,
                )
            self._registered[name] = spec
        return spec

    def entry_points(self, rescan: bool = False) -> dict[str, EnvSpec]:
        with self._lock:
            if self._entry_points is None or rescan:
                self._entry_points = discover_entry_point_envs()
            return self._entry_points

    def spec(self, name: str) -> EnvSpec:
        if not isinstance(name, str):
            raise InvalidEnvNameError(f"an env name must be a str, got {type(name).__name__} {name!r}")
        with self._lock:
            spec = self._registered.get(name) or self.entry_points().get(name)
        if spec is None:
            spec = gymnasium_spec(name)
        if spec is None:
            raise self._not_found(name)
        return spec

    def loaded_spec(self, name: str) -> EnvSpec:
        """The spec of name with its factory imported (a lazy reference is resolved once and remembered)."""
        spec = self.spec(name)
        if not spec.is_lazy:
            return spec
        factory = spec.load_factory()
        _check_signature(factory, name)
        with self._lock:
            if spec.source == "entry point":
                # Importing the factory's module may register the env itself, with its hooks: that wins.
                registered = self._registered.get(name)
                if registered is not None:
                    return registered if not registered.is_lazy else self.loaded_spec(name)
                table = self.entry_points()
            else:
                table = self._registered
            loaded = attrs.evolve(spec, make_env_func=factory)
            if table.get(name) is spec:
                table[name] = loaded
        return loaded

    def names(self) -> list[str]:
        with self._lock:
            return sorted(set(self._registered) | set(self.entry_points()) | set(gymnasium_env_ids()))

    def list(self, sources: Iterable[str] | str | None) -> list[EnvSpec]:
        wanted = _check_sources(sources)
        with self._lock:
            registered = dict(self._registered)
            entry_points = dict(self.entry_points())
        specs: list[EnvSpec] = []
        if "registered" in wanted:
            specs += [registered[name] for name in sorted(registered)]
        if "entry point" in wanted:
            specs += [entry_points[name] for name in sorted(entry_points) if name not in registered]
        if "gymnasium" in wanted:
            shadowed = registered.keys() | entry_points.keys()
            for name in sorted(gymnasium_env_ids()):
                if name not in shadowed:
                    spec = gymnasium_spec(name)
                    if spec is not None:
                        specs.append(spec)
        return specs

    def _not_found(self, name: str) -> EnvNotFoundError:
        candidates = self.names()
        by_lower = {candidate.lower(): candidate for candidate in candidates}
        close = tuple(
            by_lower[match] for match in difflib.get_close_matches(name.lower(), list(by_lower), n=5, cutoff=0.6)
        )
        if close:
            suggestion = "closest names: " + ", ".join(repr(match) for match in close)
        else:
            suggestion = "no known name is close"
        return EnvNotFoundError(
            f"unknown env {name!r}: it is not registered with register_env, not declared by an {ENTRY_POINT_GROUP!r} "
            f"entry point, and not a gymnasium id; {suggestion}. sf_registry.list_envs() lists the "
            f"{len(candidates)} envs that can be made; a script's own envs exist once the module that registers "
            "them is imported (import_env_module, sf-cli --env-module)",
            name=name,
            close_matches=close,
        )


_REGISTRY = _Registry()


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name or any(character.isspace() for character in name):
        raise InvalidEnvNameError(f"an env name must be a non-empty str without whitespace, got {name!r}")


def _check_factory(make_env_func: object, name: str) -> None:
    if isinstance(make_env_func, str):
        if not is_reference(make_env_func):
            raise InvalidEnvFactoryError(
                f"the factory of env {name!r} is the string {make_env_func!r}, which is not a 'module:attr' "
                f"reference; pass a callable {FACTORY_SIGNATURE} or a reference such as 'my_pkg.envs:make_my_env'"
            )
        return
    if not callable(make_env_func):
        raise InvalidEnvFactoryError(
            f"the factory of env {name!r} must be callable as {FACTORY_SIGNATURE} (or a 'module:attr' reference "
            f"to one), got {type(make_env_func).__name__} {make_env_func!r}"
        )
    _check_signature(make_env_func, name)


def _check_signature(factory: Callable[..., Any], name: str) -> None:
    """Refuses a factory that cannot be called with the four positional arguments of :data:`FACTORY_SIGNATURE`.

    Parameter names do not matter (``(env_name, _cfg, _env_config, render_mode=None, **kwargs)`` is as good as
    ``(full_env_name, cfg=None, env_config=None, render_mode=None)``): the registry passes the arguments by position.
    """
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return  # some builtins and extension types have no inspectable signature; the call will tell
    try:
        signature.bind(name, None, None, None)
    except TypeError as exc:
        raise InvalidEnvFactoryError(
            f"the factory {describe_callable(factory)} of env {name!r} has the signature {signature}, which cannot "
            f"be called with four positional arguments as {FACTORY_SIGNATURE} ({exc}); accepted: any callable that "
            f"takes those four arguments by position, whatever their names, e.g. {_FACTORY_EXAMPLE}"
        ) from exc


def _check_hook(hook: object, parameter: str, signature: str, name: str) -> None:
    if hook is not None and not callable(hook):
        raise InvalidEnvFactoryError(
            f"{parameter} of env {name!r} must be None or a callable {signature}, got {type(hook).__name__} {hook!r}"
        )


def _check_sources(sources: Iterable[str] | str | None) -> tuple[str, ...]:
    if sources is None:
        return SOURCES
    wanted = (sources,) if isinstance(sources, str) else tuple(sources)
    unknown = [source for source in wanted if source not in SOURCES]
    if unknown:
        raise ValueError(f"unknown env source(s) {unknown}; the sources are {', '.join(map(repr, SOURCES))}")
    return wanted


def register_env(
    name: str,
    make_env_func: Callable[..., Any] | str,
    *,
    add_extra_params_func: Callable[..., Any] | None = None,
    env_override_defaults_func: Callable[..., Any] | None = None,
) -> EnvSpec:
    """Registers an env factory under a name, so that ``make_env(name)`` and ``--env=name`` create it.

    Registering a name again replaces the registration. With the same factory (a script that registers its envs
    on every start) that is silent; with a different factory it warns with :class:`EnvRegistryWarning`. A
    registered name takes precedence over an entry point or gymnasium id of the same name.

    Args:
        name: The full env name, a non-empty string without whitespace.
        make_env_func: The factory, called with four positional arguments as ``make_env_func(full_env_name, cfg,
            env_config, render_mode)`` (as Sample Factory 2 calls it; the parameter names are the factory's own) and
            returning a ``gymnasium.Env``; or a lazy ``"module:attr"`` reference to it, imported on the first
            ``make_env``.
        add_extra_params_func: Optional hook ``add_extra_params_func(env_name, parser, evaluation=False)`` that adds
            the env's command-line arguments.
        env_override_defaults_func: Optional hook ``env_override_defaults_func(env_name, parser)`` that overrides
            parameter defaults for this env; an :class:`EnvDefaults` table is such a hook.

    Returns:
        The EnvSpec now registered under name.

    Raises:
        InvalidEnvNameError: name is not a non-empty string without whitespace.
        InvalidEnvFactoryError: make_env_func is neither callable with four positional arguments nor a
            ``"module:attr"`` string, or a hook is not callable.

    Example:
        >>> import gymnasium
        >>> from sf_registry import make_env, register_env
        >>> def make_pendulum(full_env_name, cfg=None, env_config=None, render_mode=None):
        ...     return gymnasium.make("Pendulum-v1", render_mode=render_mode)
        >>> spec = register_env("my_pendulum", make_pendulum)
        >>> env = make_env("my_pendulum")
        >>> env.action_space.shape
        (1,)
    """
    return _REGISTRY.register(name, make_env_func, add_extra_params_func, env_override_defaults_func)


def env_spec(name: str, *, load: bool = False) -> EnvSpec:
    """The EnvSpec of a name: registered first, then ``sf.envs`` entry points, then gymnasium ids.

    Args:
        name: The env name.
        load: Import a lazy factory first. An entry point's module may register the env itself with its hooks
            (extra arguments, default overrides); front ends that apply hooks ask for the loaded spec.

    Without ``load`` nothing is imported: the factory of an entry point stays a lazy reference.

    Raises:
        EnvNotFoundError: No env has that name; the message lists the closest known names.
        InvalidEnvFactoryError: With ``load``, a lazy factory reference cannot be imported.
    """
    return _REGISTRY.loaded_spec(name) if load else _REGISTRY.spec(name)


def make_env(
    full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None
) -> gymnasium.Env:
    """Creates the env of that name, calling its factory and checking what it returns.

    The factory is called with four positional arguments, ``factory(full_env_name, cfg, env_config, render_mode)``.

    A name that is neither registered nor declared by an entry point is made with
    ``gymnasium.make(full_env_name, render_mode=render_mode)`` when gymnasium knows it.

    Args:
        full_env_name: The env name (``--env``).
        cfg: The full configuration, handed to the factory as is (second argument).
        env_config: Which env instance this is (an :class:`EnvConfig`), handed to the factory as is (third).
        render_mode: Render mode handed to the factory (``None``, ``"rgb_array"``, ``"human"``, ...).

    Returns:
        The env, a ``gymnasium.Env`` whose ``observation_space`` and ``action_space`` are gymnasium spaces.

    Raises:
        EnvNotFoundError: No env has that name; the message lists the closest known names.
        InvalidEnvFactoryError: A lazy factory reference cannot be imported, or does not name a fitting callable.
        InvalidEnvError: The factory returned None or not a ``gymnasium.Env``, or the env's ``observation_space``
            or ``action_space`` is not a ``gymnasium.spaces.Space`` (the message names which).

    Example:
        >>> from sf_registry import make_env
        >>> env = make_env("CartPole-v1")
        >>> env.action_space
        Discrete(2)
    """
    spec = _REGISTRY.loaded_spec(full_env_name)
    factory = spec.make_env_func
    env = factory(full_env_name, cfg, env_config, render_mode)
    return check_env(env, full_env_name, describe_callable(factory))


def list_envs(sources: Iterable[str] | str | None = None) -> list[EnvSpec]:
    """Every env that can be made now, as EnvSpec records with their ``source`` and ``origin``.

    Registered envs come first, then entry-point envs, then gymnasium ids, each sorted by name; a name appears once,
    under the source ``make_env`` would use.

    Args:
        sources: Only these sources (``"registered"``, ``"entry point"``, ``"gymnasium"``); all when None.

    Raises:
        ValueError: sources names an unknown source.

    Example:
        >>> from sf_registry import list_envs
        >>> [spec.source for spec in list_envs() if spec.name == "CartPole-v1"]
        ['gymnasium']
    """
    return _REGISTRY.list(sources)


def load_env_entry_points() -> list[EnvSpec]:
    """Scans the ``sf.envs`` entry-point group again, and returns the envs it declares.

    The registry scans once on first need by itself; call this after installing a package (or changing
    ``sys.path``) in a running process. No module is imported until one of its envs is made.
    """
    importlib.invalidate_caches()
    return list(_REGISTRY.entry_points(rescan=True).values())
