"""Conversion of raw values (command-line tokens, file values, Python values) to a parameter's declared type.

Each function raises ``ValueError`` with a short reason; callers add the parameter name and the layer.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "on", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "off", "0"})
NONE_WORDS = frozenset({"none", "null"})


def str2bool(text: str) -> bool:
    """Parses a boolean the way Sample Factory users write it on the command line (True/False/true/false/1/0...).

    Raises:
        ValueError: When the text is not one of the accepted spellings.
    """
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{text!r} is not a boolean (accepted: True/False, true/false, 1/0, yes/no)")


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean, expected an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)  # allows 1e10, the way Sample Factory users write step counts
        except ValueError:
            raise ValueError(f"{value!r} is not an integer") from None
        return _to_int(number)
    raise ValueError(f"{value!r} ({type(value).__name__}) is not an integer")


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean, expected a number")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    else:
        raise ValueError(f"{value!r} ({type(value).__name__}) is not a number")
    if math.isnan(result):
        raise ValueError("NaN is not a usable value")
    return result


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return str2bool(value)
    raise ValueError(f"{value!r} ({type(value).__name__}) is not a boolean (accepted: True/False, 1/0)")


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise ValueError(f"{value!r} ({type(value).__name__}) is not a string")


SCALAR_CONVERTERS = {bool: _to_bool, int: _to_int, float: _to_float, str: _to_str}


def convert_scalar(kind: type, value: Any) -> Any:
    """Converts one value to ``kind`` (bool, int, float or str); strings are parsed."""
    return SCALAR_CONVERTERS[kind](value)


def convert_list(item_kind: type, value: Any) -> list:
    """Converts a list value: a Python sequence, a JSON list in a string, or comma-separated text.

    Args:
        item_kind: Type of each item (int, float or str).
        value: The raw value.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{value!r} is not a valid JSON list ({exc.msg})") from None
        elif text == "":
            value = []
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise ValueError(f"{value!r} ({type(value).__name__}) is not a list")
    items = []
    for item in value:
        try:
            items.append(convert_scalar(item_kind, item))
        except ValueError as exc:
            raise ValueError(f"list item {exc}") from None
    return items


def tokens_to_value(tokens: Sequence[str]) -> Any:
    """Joins the command-line tokens of a list parameter into one raw value for :func:`convert_list`.

    ``--layers 64 64`` gives the tokens ``["64", "64"]``; ``--layers [64,64]`` and ``--layers 64,64`` give one token.
    """
    if len(tokens) == 1:
        return tokens[0]
    return list(tokens)


def is_none_word(value: Any) -> bool:
    """Whether a command-line string spells "no value" (None/null)."""
    return isinstance(value, str) and value.strip().lower() in NONE_WORDS
