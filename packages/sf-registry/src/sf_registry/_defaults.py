"""EnvDefaults: a default-override hook made of a table of parameter defaults."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any


class EnvDefaults(Mapping[str, Any]):
    """An ``env_override_defaults_func`` that sets a fixed table of parameter defaults.

    Called as the hook, ``hook(env_name, parser)`` runs ``parser.set_defaults(**table)`` (with copies of list values,
    so that no two parses share one). It is also a read-only mapping of its table, so that tables layer:
    ``EnvDefaults(BASE, gamma=0.9)`` is ``BASE`` with ``gamma`` changed. It pickles (the registry's hooks travel to
    worker processes) and compares equal to an EnvDefaults of the same table.

    Args:
        *tables: Mappings of parameter name -> default value; a later one wins.
        **values: More defaults, winning over the tables.

    Example:
        >>> import argparse
        >>> import gymnasium
        >>> from sf_registry import EnvDefaults, register_env
        >>> ONE_PROCESS = EnvDefaults(serial_mode=True, num_workers=1)
        >>> def make_pendulum(full_env_name, cfg=None, env_config=None, render_mode=None):
        ...     return gymnasium.make("Pendulum-v1", render_mode=render_mode)
        >>> hook = EnvDefaults(ONE_PROCESS, gamma=0.9)
        >>> spec = register_env("one_process_pendulum", make_pendulum, env_override_defaults_func=hook)
        >>> parser = argparse.ArgumentParser()
        >>> spec.override_defaults(parser)
        >>> parser.parse_args([])
        Namespace(serial_mode=True, num_workers=1, gamma=0.9)
    """

    def __init__(self, *tables: Mapping[str, Any], **values: Any) -> None:
        merged: dict[str, Any] = {}
        for table in tables:
            merged.update(table)
        merged.update(values)
        self._values = merged

    def __call__(self, env_name: str, parser: Any) -> None:
        """The hook: ``parser.set_defaults(**table)``."""
        parser.set_defaults(**copy.deepcopy(self._values))

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"EnvDefaults({self._values!r})"
