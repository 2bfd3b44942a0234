"""Small helpers that training scripts written for Sample Factory import from its ``utils`` modules."""

from __future__ import annotations

import getpass
import importlib.util
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from typing import Any

import gymnasium

log = logging.getLogger("sf_runtime")
"""The framework's logger; scripts log through it (``log.info(...)``) so their lines reach the experiment's log."""

ObsSpace = gymnasium.spaces.Space
"""Type alias for an observation space."""

ActionSpace = gymnasium.spaces.Space
"""Type alias for an action space."""


def is_module_available(name: str) -> bool:
    """Whether a module can be imported (without importing it).

    Args:
        name: dotted module name, e.g. ``"ale_py"``.

    Returns:
        True when ``importlib.util.find_spec`` finds it; False when it does not, or when a parent package is missing
        or fails to import.
    """
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


Env = gymnasium.Env
"""Type alias for an environment."""

PolicyID = int
"""Type alias for a policy id (``0..num_policies-1``)."""

ALGO_VERSION = 1
"""Version of sf's training algorithm, for experiment names (``f"v{ALGO_VERSION:03d}_my_sweep"``).

It changes when a change to the algorithm or its defaults makes new results incomparable with older ones.
"""

_debug_log_counts: dict[str, int] = {}
_debug_log_lock = threading.Lock()


def debug_log_every_n(n: int, msg: str, *args: Any, **kwargs: Any) -> None:
    """Logs ``msg % args`` at DEBUG level on the first call with this message and then on every n-th one.

    For messages from code that runs very often (an env factory, a step): the message string itself is the
    counter's key, so one line of code with varying arguments is counted as one message.

    Args:
        n: Log one call in n (a positive integer).
        msg: The message, a ``%``-format string as for ``log.debug``.
        *args: Its arguments.
        **kwargs: Keyword arguments of ``log.debug`` (``exc_info``, ...).

    Raises:
        ValueError: n is not a positive integer.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"debug_log_every_n needs n to be a positive integer, got {n!r}")
    with _debug_log_lock:
        count = _debug_log_counts.get(msg, 0)
        _debug_log_counts[msg] = count + 1
    if count % n == 0:
        log.debug(msg, *args, **kwargs)


def ensure_dir_exists(path: str | os.PathLike) -> str:
    """Creates a folder (and its parents) unless it exists, and returns its path.

    Several processes may call it for the same folder at once.

    Args:
        path: The folder.

    Returns:
        ``path`` as a string.

    Raises:
        FileExistsError: ``path`` exists and is not a folder.
    """
    os.makedirs(path, exist_ok=True)
    return os.fspath(path)


def safe_ensure_dir_exists(path: str | os.PathLike) -> str:
    """The same as :func:`ensure_dir_exists`, which is already safe when processes race to create the folder.

    Args:
        path: The folder.

    Returns:
        ``path`` as a string.
    """
    return ensure_dir_exists(path)


def project_tmp_dir() -> str:
    """A folder for sf's temporary files, one per user (``<system temp dir>/sf_<user>``), created if needed.

    Returns:
        Its path.
    """
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return ensure_dir_exists(os.path.join(tempfile.gettempdir(), f"sf_{user}"))


def static_vars(**kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that gives a function attributes with initial values, kept between its calls.

    Example:
        >>> from sf_runtime import static_vars
        >>> @static_vars(calls=0)
        ... def count():
        ...     count.calls += 1
        ...     return count.calls
        >>> count(), count()
        (1, 2)

    Args:
        **kwargs: Attribute names and their initial values.

    Returns:
        The decorator; it returns the function itself, with the attributes set.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for name, value in kwargs.items():
            setattr(func, name, value)
        return func

    return decorate


def is_udp_port_available(port: int) -> bool:
    """Whether a UDP socket can bind to a port on all interfaces now (e.g. to pick ports for multiplayer games).

    Args:
        port: The port, 0..65535.

    Returns:
        True when the bind succeeded (the socket is closed again at once), False when the port is taken or not
        allowed.

    Raises:
        ValueError: port is not an integer in 0..65535.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"a UDP port is an integer from 0 to 65535, got {port!r}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("", port))
        except OSError:
            return False
    return True
