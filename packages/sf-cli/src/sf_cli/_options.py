"""Options shared by the commands, and the decorator stack of the commands that take every schema parameter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from sf_cli._errors import reports_errors
from sf_cli._schema_help import schema_command

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


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


verbose_option: Decorator = click.option(
    "-v", "--verbose", is_flag=True, help="Show the runtime's log on stderr (INFO and above)."
)
"""``-v/--verbose``, of the commands that run training."""


def seconds_option(*param_decls: str, minimum: float, default: float, help: str) -> Decorator:
    """An option that takes a number of seconds, at least ``minimum``, with its default shown in ``--help``."""
    return click.option(*param_decls, type=click.FloatRange(min=minimum), default=default, show_default=True, help=help)


def schema_subcommand(
    name: str,
    *options: Decorator,
    evaluation: bool = False,
    cli_defaults: dict[str, str] | None = None,
    **kwargs: Any,
) -> Decorator:
    """Decorator of a command that takes every schema parameter: :func:`~sf_cli._schema_help.schema_command`, the
    command's own ``options`` (in ``--help`` order), :func:`common_options`, Click's context and
    :func:`~sf_cli._errors.reports_errors`.

    The command is called as ``func(ctx, <its options>, env_modules, debug)``; ``ctx.args`` holds the schema
    parameters.
    """

    def decorate(func: Callable[..., Any]) -> Any:
        func = click.pass_context(reports_errors(func))
        func = common_options(func)
        for option in reversed(options):
            func = option(func)
        return schema_command(name, evaluation=evaluation, cli_defaults=cli_defaults, **kwargs)(func)

    return decorate
