"""How sf-cli reports problems: one clear line and an exit code, the traceback only with ``--debug``.

Exit codes: 0 success, 1 failure, 2 usage error (bad input) or interrupted.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from sf_config import ConfigError
from sf_registry import EnvRegistryError

EXIT_SUCCESS = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 2

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(click.ClickException):
    """Input the user can fix (unknown parameter, bad value, unknown env or experiment): exit code 2, no usage dump."""

    exit_code = EXIT_USAGE


class Failure(click.ClickException):
    """A command that ran but failed (exit code 1)."""

    exit_code = EXIT_FAILURE


def debug_enabled(ctx: click.Context | None = None) -> bool:
    """Whether ``--debug`` was given to ``sf-cli`` or to the current command."""
    ctx = ctx or click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("debug"):
            return True
        ctx = ctx.parent
    return False


def reports_errors(func: F) -> F:
    """Wraps a command body so that every exception becomes one line on stderr and the documented exit code.

    Input errors (:class:`~sf_config.ConfigError`, the registry's errors, :class:`BadInput`) exit with 2, Ctrl-C with
    2, anything else with 1. With ``--debug`` the full traceback is printed first.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = debug_enabled()
        try:
            return func(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            if debug:
                traceback.print_exc()
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except (ConfigError, EnvRegistryError) as exc:
            if debug:
                traceback.print_exc()
            raise BadInput(str(exc)) from None
        except Exception as exc:
            if debug:
                traceback.print_exc()
                raise Failure(f"{type(exc).__name__}: {exc}") from None
            raise Failure(f"{type(exc).__name__}: {exc} (run with --debug for the traceback)") from None

    return wrapper  # type: ignore[return-value]
