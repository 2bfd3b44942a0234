"""sf-cli: the command-line front door of sf.

``sf-cli train``, ``enjoy``, ``envs``, ``config``, ``plot`` and ``bench``; every parameter of the sf-config schema is
accepted as an option, spelled as in the Python API. :func:`main` is the console script; :data:`cli` the Click group
(for Click's test runner, or to add commands).
"""

from __future__ import annotations

import sys
from typing import Any

from sf_cli._version import __version__

__all__ = ["__version__", "cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``sf-cli`` console script (and of ``python -m sf_cli``).

    ``sf-cli train`` starts the parallel runner's fork server before it imports anything heavy (see
    ``sf_cli._fork_server``); a fork server of this process is stopped when the command ends.

    Args:
        argv: Arguments without the program name; None reads ``sys.argv``.
    """
    from sf_cli._fork_server import start_early, stop_fork_server

    start_early(sys.argv[1:] if argv is None else argv)
    try:
        from sf_cli._app import cli

        cli.main(args=argv, prog_name="sf-cli")
    finally:
        stop_fork_server()


def __getattr__(name: str) -> Any:
    if name == "cli":  # imported on first use, so that main() can start the fork server first
        from sf_cli._app import cli

        return cli
    raise AttributeError(f"module 'sf_cli' has no attribute {name!r}")
