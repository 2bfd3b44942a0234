"""Finding envs without code changes: the ``sf.envs`` entry-point group, and modules named at run time."""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
import warnings
from pathlib import Path
from types import ModuleType

from sf_registry._errors import EnvModuleImportError, EnvRegistryWarning
from sf_registry._references import is_reference
from sf_registry._spec import EnvSpec

ENTRY_POINT_GROUP = "sf.envs"
"""The entry-point group scanned for envs: each entry point ``env_name = "module:factory"`` declares one env."""


def discover_entry_point_envs() -> dict[str, EnvSpec]:
    """Scans the installed distributions for ``sf.envs`` entry points, importing nothing.

    Each entry point's name is the env name and its value a lazy ``"module:attr"`` reference to the env's factory.
    A malformed value, or a name already declared by another distribution, is skipped with an
    :class:`EnvRegistryWarning` so that one broken package does not hide every other env.

    Returns:
        Env name -> EnvSpec with source ``"entry point"`` and the declaring distribution as origin.
    """
    found: dict[str, EnvSpec] = {}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        distribution = _distribution_name(entry_point)
        if not is_reference(entry_point.value):
            warnings.warn(
                f"skipping entry point {entry_point.name!r} of {distribution} in group {ENTRY_POINT_GROUP!r}: "
                f"its value {entry_point.value!r} is not a 'module:attr' reference to an env factory",
                EnvRegistryWarning,
                stacklevel=3,
            )
            continue
        if entry_point.name in found:
            earlier = found[entry_point.name]
            if earlier.make_env_func != entry_point.value or earlier.origin != distribution:
                warnings.warn(
                    f"env {entry_point.name!r} is declared by the entry points of both {earlier.origin} "
                    f"({earlier.make_env_func}) and {distribution} ({entry_point.value}); using the first",
                    EnvRegistryWarning,
                    stacklevel=3,
                )
            continue
        found[entry_point.name] = EnvSpec(
            name=entry_point.name, make_env_func=entry_point.value, source="entry point", origin=distribution
        )
    return found


def _distribution_name(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    name = dist.name if dist is not None else None
    return name or "an unknown distribution"


def import_env_module(module: str) -> ModuleType:
    """Imports a module so that its ``register_env`` calls run (what ``sf-cli --env-module`` does).

    Args:
        module: A dotted module name (``"my_pkg.envs"``), or the path of a ``.py`` file. A file is imported under
            its stem name with its directory put first on ``sys.path``, so its factories can be pickled by name.

    Returns:
        The imported module.

    Raises:
        EnvModuleImportError: The module does not exist, or importing it raised; the message says which.

    Example:
        >>> from sf_registry import import_env_module
        >>> import_env_module("no_such_env_module")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        sf_registry.EnvModuleImportError: cannot import env module 'no_such_env_module': no module named ...
    """
    if not isinstance(module, str) or not module.strip():
        raise EnvModuleImportError(f"an env module must be a dotted module name or a .py path, got {module!r}")
    if module.endswith(".py") or "/" in module or "\\" in module:
        return _import_file(Path(module))
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            raise EnvModuleImportError(
                f"cannot import env module {module!r}: no module named {exc.name!r}; check the spelling, and that "
                "its package is installed or its directory is on sys.path (PYTHONPATH)"
            ) from exc
        raise _failed_import(module, exc) from exc
    except Exception as exc:
        raise _failed_import(module, exc) from exc


def _failed_import(module: str, exc: BaseException) -> EnvModuleImportError:
    return EnvModuleImportError(f"importing env module {module!r} raised {type(exc).__name__}: {exc}")


def _import_file(path: Path) -> ModuleType:
    if path.suffix != ".py" or not path.is_file():
        raise EnvModuleImportError(f"cannot import env module {str(path)!r}: no such .py file")
    directory = str(path.resolve().parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(path.stem)
    except Exception as exc:
        raise _failed_import(str(path), exc) from exc
    if Path(module.__file__ or "").resolve() != path.resolve():
        raise EnvModuleImportError(
            f"cannot import env module {str(path)!r}: the name {path.stem!r} is already taken by {module.__file__}; "
            "rename the file"
        )
    return module
