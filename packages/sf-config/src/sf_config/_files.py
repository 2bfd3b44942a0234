"""Reading configuration files (TOML or JSON) into flat parameter mappings."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from sf_config._errors import ConfigError
from sf_config._schema import GROUPS

SUFFIXES = (".toml", ".json")


def load_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads a TOML or JSON file of parameter values.

    Parameters may be written flat (``gamma = 0.99``) or inside tables named after schema groups
    (``[optimization] learning_rate = 3e-4``); both give the same flat mapping. Names are not checked here.

    Args:
        path: A ``.toml`` or ``.json`` file.

    Returns:
        Parameter name -> value.

    Raises:
        ConfigError: When the file is missing, has another suffix, cannot be parsed, or is not a table of values.
    """
    file = Path(path)
    if file.suffix.lower() not in SUFFIXES:
        accepted = ", ".join(SUFFIXES)
        raise ConfigError(f"config file {file}: unsupported suffix {file.suffix!r}; expected one of {accepted}")
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config file {file} cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text) if file.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"config file {file} is not valid {file.suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {file}: expected a table/object of parameters, got {type(data).__name__}")
    return flatten_groups(data, str(file))


def flatten_groups(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Lifts the parameters of group tables (``{"optimization": {"learning_rate": ...}}``) to the top level."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in GROUPS and isinstance(value, dict):
            for inner_key, inner_value in value.items():
                if inner_key in flat:
                    raise ConfigError(f"config file {where}: {inner_key} is set twice")
                flat[inner_key] = inner_value
        else:
            if key in flat:
                raise ConfigError(f"config file {where}: {key} is set twice")
            flat[key] = value
    return flat
