"""The runtime's log on the console, for plain training scripts that configured no logging of their own."""

from __future__ import annotations

import logging


def attach_console_log() -> logging.Handler | None:
    """Log sf's INFO records to stderr when nothing else configured logging (e.g. in a plain training script).

    Returns:
        The handler added to the root logger (remove it with :func:`detach_console_log`), or None when the root
        logger already had handlers (sf-cli, pytest, or the user's own configuration).
    """
    root = logging.getLogger()
    if root.handlers:
        return None
    handler = logging.StreamHandler()
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("[%(asctime)s][%(process)d] %(message)s", "%H:%M:%S"))
    root.addHandler(handler)
    sf_logger = logging.getLogger("sf_runtime")
    if sf_logger.level == logging.NOTSET:
        sf_logger.setLevel(logging.INFO)
    return handler


def detach_console_log(handler: logging.Handler | None) -> None:
    """Remove a handler added by :func:`attach_console_log` (None is accepted and ignored)."""
    if handler is not None:
        logging.getLogger().removeHandler(handler)
