"""EnvSpec: the record of one env that can be made, and where it comes from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import attrs

from sf_registry._references import describe_callable, is_reference, resolve_reference

Source = Literal["registered", "entry point", "gymnasium"]
SOURCES: tuple[Source, ...] = ("registered", "entry point", "gymnasium")


@attrs.frozen
class EnvSpec:
    """One env that ``make_env`` can create, with its optional command-line hooks.

    Records are immutable and pickle (factories are pickled by reference), so a registry can be sent to worker
    processes.

    Attributes:
        name: The full env name, as passed to ``make_env`` and ``--env``.
        make_env_func: The factory, called with four positional arguments as ``make_env_func(full_env_name, cfg,
            env_config, render_mode)`` and returning a ``gymnasium.Env``; or a lazy ``"module:attr"`` reference to
            it, imported on first make.
        add_extra_params_func: Optional hook ``add_extra_params_func(env_name, parser, evaluation=False)`` that adds
            the env's own command-line arguments.
        env_override_defaults_func: Optional hook ``env_override_defaults_func(env_name, parser)`` that changes
            parameter defaults for this env (``parser.set_defaults(...)``).
        source: ``"registered"`` (``register_env``), ``"entry point"`` (the ``sf.envs`` entry-point group) or
            ``"gymnasium"`` (gymnasium's own registry).
        origin: Where it comes from: the module of a registered factory, the distribution that declares an entry
            point, or the gymnasium entry point of a gymnasium env.

    Example:
        >>> from sf_registry import env_spec
        >>> spec = env_spec("CartPole-v1")
        >>> spec.source, spec.origin
        ('gymnasium', 'gymnasium.envs.classic_control.cartpole:CartPoleEnv')
    """

    name: str
    make_env_func: Callable[..., Any] | str = attrs.field(repr=describe_callable)
    add_extra_params_func: Callable[..., Any] | None = attrs.field(default=None, repr=False)
    env_override_defaults_func: Callable[..., Any] | None = attrs.field(default=None, repr=False)
    source: Source = "registered"
    origin: str = ""

    @property
    def is_lazy(self) -> bool:
        """True while the factory is a ``"module:attr"`` reference that has not been imported."""
        return is_reference(self.make_env_func)

    def load_factory(self) -> Callable[..., Any]:
        """The factory as a callable, importing its module when it is a lazy reference.

        Raises:
            InvalidEnvFactoryError: The reference cannot be imported or does not name a callable.
        """
        if isinstance(self.make_env_func, str):
            return resolve_reference(self.make_env_func, f"factory of env {self.name!r}")
        return self.make_env_func

    def add_extra_params(self, parser: Any, evaluation: bool = False) -> None:
        """Runs the ``add_extra_params_func`` hook on parser, if the env has one."""
        if self.add_extra_params_func is not None:
            self.add_extra_params_func(self.name, parser, evaluation=evaluation)

    def override_defaults(self, parser: Any) -> None:
        """Runs the ``env_override_defaults_func`` hook on parser, if the env has one."""
        if self.env_override_defaults_func is not None:
            self.env_override_defaults_func(self.name, parser)
