"""Small helpers that training scripts written for Sample Factory import from its ``utils`` modules."""

from __future__ import annotations

import importlib.util
import logging

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
