"""sf-cli: the command-line front door of sf.

``sf-cli train``, ``enjoy``, ``envs``, ``config``, ``plot`` and ``bench``; every parameter of the sf-config schema is
accepted as an option, spelled as in the Python API. :func:`main` is the console script; :data:`cli` the Click group
(for Click's test runner, or to add commands).
"""

from sf_cli._app import cli, main
from sf_cli._version import __version__

__all__ = ["__version__", "cli", "main"]
