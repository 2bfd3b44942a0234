"""The errors of the env registry: one base class, one subclass per kind of mistake."""

from __future__ import annotations


class EnvRegistryError(Exception):
    """Base class of every error raised by sf_registry."""


class EnvNotFoundError(EnvRegistryError, KeyError):
    """No env of that name is registered, declared by an entry point, or known to gymnasium.

    Also a :class:`KeyError`, since it is a failed lookup by name.

    Attributes:
        name: The name that was looked up.
        close_matches: The known names closest to it, best first (may be empty).
    """

    def __init__(self, message: str, name: str = "", close_matches: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.close_matches = close_matches

    def __str__(self) -> str:
        # KeyError.__str__ would wrap the message in quotes.
        return str(self.args[0]) if self.args else ""


class InvalidEnvNameError(EnvRegistryError, ValueError):
    """An env name is not a non-empty string without whitespace."""


class InvalidEnvFactoryError(EnvRegistryError, TypeError):
    """A factory (or hook) is not callable, or a ``"module:attr"`` reference to it cannot be resolved."""


class InvalidEnvError(EnvRegistryError, TypeError):
    """A factory returned something that is not a gymnasium env, or an env whose spaces are not gymnasium spaces."""


class EnvModuleImportError(EnvRegistryError, ImportError):
    """A module named to register envs (``import_env_module``) could not be imported."""


class EnvRegistryWarning(UserWarning):
    """Warned when a registration replaces a different one, or a discovered entry point is skipped."""

    __module__ = "sf_registry"  # public name in tracebacks; pickles by it too


# Tracebacks show the public names (sf_registry.EnvNotFoundError), and pickling finds the classes by them.
for _public in (
    EnvRegistryError,
    EnvNotFoundError,
    InvalidEnvNameError,
    InvalidEnvFactoryError,
    InvalidEnvError,
    EnvModuleImportError,
    EnvRegistryWarning,
):
    _public.__module__ = "sf_registry"
del _public
