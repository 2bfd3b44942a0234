"""The one exception type of sf-config and the did-you-mean helper used by its messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ConfigError(ValueError):
    """A configuration problem: unknown parameter, wrong type, value out of range, or an invalid combination.

    The message names the parameters involved and what would be accepted. When several problems are found at once
    (validation collects them all), ``problems`` lists each one and the message joins them.

    Attributes:
        problems: One human-readable line per problem.
    """

    def __init__(self, problems: str | Iterable[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} configuration problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


def did_you_mean(name: str, candidates: Iterable[str], prefix: str = "") -> str:
    """Returns ``"; did you mean <prefix><closest>?"`` for the closest candidate names, or ``""`` when none is close.

    Args:
        name: The unknown name as the user wrote it (without leading dashes).
        candidates: The names that would have been accepted.
        prefix: Written before each suggestion, e.g. ``"--"`` for command-line options.
    """
    matches = difflib.get_close_matches(name, list(candidates), n=2, cutoff=0.75)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(f"{prefix}{m}" for m in matches) + "?"


def unknown_parameter(name: str, candidates: Iterable[str], prefix: str = "--", where: str = "") -> str:
    """The standard message for an unknown parameter name, with suggestions.

    Args:
        name: The unknown name (without leading dashes).
        candidates: Known parameter names.
        prefix: Spelling of the suggestion (``"--"`` on the command line, ``""`` in files and code).
        where: Optional location, e.g. ``" in config file a.toml"``.
    """
    return f"unknown parameter {prefix}{name}{where}" + did_you_mean(name, candidates, prefix)
