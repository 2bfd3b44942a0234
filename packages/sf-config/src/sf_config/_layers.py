"""The names of the resolution layers, lowest to highest priority."""

from __future__ import annotations

LAYERS: tuple[str, ...] = ("default", "env", "file", "saved", "cli", "code")
"""Layers in priority order: a value set by a later layer overrides the earlier ones.

- ``default``: the schema (or a script's ``add_argument(default=...)``).
- ``env``: env defaults (the registry's override hook, or ``parser.set_defaults`` in a script).
- ``file``: ``--config FILE`` files (TOML or JSON), later files over earlier ones.
- ``saved``: the experiment's ``config.json`` when resuming or evaluating.
- ``cli``: arguments given explicitly on the command line.
- ``code``: values set programmatically (``make_cfg(**overrides)``, ``cfg.x = ...``).
"""

RANK: dict[str, int] = {name: i for i, name in enumerate(LAYERS)}


def check_layer(name: str) -> str:
    """Returns ``name`` if it is a layer name, else raises ValueError listing the layers."""
    if name not in RANK:
        raise ValueError(f"unknown layer {name!r}; expected one of {', '.join(LAYERS)}")
    return name
