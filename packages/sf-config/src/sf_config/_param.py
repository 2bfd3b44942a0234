"""The record that describes one parameter of the schema."""

from __future__ import annotations

from typing import Any

import attrs

from sf_config._convert import convert_list, convert_scalar, is_none_word, tokens_to_value
from sf_config._errors import ConfigError


@attrs.frozen
class Param:
    """One parameter of the schema: its name, type, default, help text, allowed values and group.

    Attributes:
        name: Parameter name, also the command-line option (``--name``) and the cfg key.
        type: ``bool``, ``int``, ``float``, ``str`` or ``list``.
        default: Value when no layer sets it (Sample Factory 2's default).
        help: One-paragraph description shown by ``-h``.
        group: Name of the group in :data:`sf_config.GROUPS`.
        choices: Allowed values, or None when any value of the type is allowed.
        item_type: For ``list`` parameters, the type of each item.
        nullable: Whether None is an accepted value (always true when the default is None).
        low: Smallest accepted value (numbers) or item value (lists), inclusive; None for no bound.
        high: Largest accepted value, inclusive; None for no bound.
        evaluation: Whether the parameter exists only in evaluation mode (``evaluation=True``).
    """

    name: str
    type: type
    default: Any
    help: str
    group: str
    choices: tuple[str, ...] | None = None
    item_type: type | None = None
    nullable: bool = False
    low: float | None = None
    high: float | None = None
    evaluation: bool = False

    def __attrs_post_init__(self) -> None:
        if self.type is list and self.item_type is None:
            raise TypeError(f"list parameter {self.name} needs an item_type")
        if self.default is None and not self.nullable:
            object.__setattr__(self, "nullable", True)

    @property
    def type_name(self) -> str:
        """The type as users read it, e.g. ``int``, ``list[int]``, ``str | None``."""
        name = f"list[{self.item_type.__name__}]" if self.type is list else self.type.__name__
        return f"{name} | None" if self.nullable else name

    def accepted(self) -> str:
        """What this parameter accepts, for error messages."""
        if self.choices:
            text = "one of " + ", ".join(self.choices)
        else:
            text = self.type_name
            if self.low is not None and self.high is not None:
                text += f" in [{self.low:g}, {self.high:g}]"
            elif self.low is not None:
                text += f" >= {self.low:g}"
            elif self.high is not None:
                text += f" <= {self.high:g}"
        if self.nullable and self.choices:
            text += " or None"
        return text

    def coerce(self, value: Any, where: str = "") -> Any:
        """Converts a raw value to this parameter's type and checks choices and bounds.

        Args:
            value: A Python value, or a string to parse.
            where: Where the value came from, appended to error messages (e.g. ``" (from the command line)"``).

        Returns:
            The converted value (lists are always ``list``).

        Raises:
            ConfigError: Naming the parameter, the bad value and what is accepted.
        """
        if value is None or (self.nullable and self.type is not str and is_none_word(value)):
            if self.nullable:
                return None
            raise ConfigError(f"{self.name}: None is not accepted{where}; expected {self.accepted()}")
        try:
            if self.type is list:
                result = convert_list(self.item_type, value)
            else:
                result = convert_scalar(self.type, value)
        except ValueError as exc:
            raise ConfigError(f"{self.name}: {exc}{where}; expected {self.accepted()}") from None
        self._check_range(result, where)
        return result

    def parse_tokens(self, tokens: str | list[str], where: str = " (from the command line)") -> Any:
        """Converts command-line tokens (one string, or the list an ``nargs='*'`` option collects)."""
        if isinstance(tokens, list) and self.type is not list:
            tokens = " ".join(tokens)
        raw = tokens_to_value(tokens) if isinstance(tokens, list) else tokens
        if self.nullable and is_none_word(raw):
            return None  # on the command line, None/null means "no value" for every nullable parameter
        return self.coerce(raw, where)

    def _check_range(self, value: Any, where: str) -> None:
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"{self.name}: {value!r} is not an accepted value{where}; expected {self.accepted()}")
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float):
                continue
            if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
                shown = "item " + repr(v) if isinstance(value, list) else repr(v)
                raise ConfigError(f"{self.name}: {shown} is out of range{where}; expected {self.accepted()}")
