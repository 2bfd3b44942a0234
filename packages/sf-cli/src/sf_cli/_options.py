"""Options shared by the commands: ``--env-module`` and ``--debug``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click


def common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Adds ``--env-module MODULE`` (repeatable) and ``--debug`` to a command."""
    func = click.option(
        "--env-module",
        "env_modules",
        multiple=True,
        metavar="MODULE",
        help="Import this module (dotted name or .py file) first, so that the envs it registers can be used. "
        "Repeatable.",
    )(func)
    func = click.option("--debug", is_flag=True, help="Print the full traceback of an error.")(func)
    return func
