"""Writing ``config.json``, the resolved configuration of an experiment, atomically.

Its name, its location and reading it back are :mod:`sf_config`'s (``CONFIG_FILE``, ``config_path``,
``load_saved_config``): the CLI reads it too, without torch. Writing stays here, with the atomic file writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sf_config import config_path
from sf_runtime.integrations import ensure_wandb_id
from sf_runtime.storage.atomic import atomic_write_bytes
from sf_runtime.storage.errors import StorageError


def _to_dict(cfg: Any) -> dict[str, Any]:
    if hasattr(cfg, "to_dict"):
        return dict(cfg.to_dict())
    if hasattr(cfg, "keys"):
        return {key: cfg[key] for key in cfg}
    return dict(vars(cfg))


def save_config(cfg: Any) -> Path:
    """Writes cfg as JSON to ``config.json`` in the experiment directory (atomically: never a torn file).

    Values JSON cannot hold are written as their ``str()``. With ``with_wandb`` the cfg first gets the id of its W&B
    run (``wandb_unique_id``, kept when resuming), so that the experiment always reattaches to the same run.

    Returns:
        The path written.
    """
    path = config_path(cfg)
    ensure_wandb_id(cfg)
    text = json.dumps(_to_dict(cfg), indent=2, sort_keys=True, default=str)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, (text + "\n").encode("utf-8"))
    except OSError as exc:
        raise StorageError(f"Cannot write the experiment config {path}: {exc}") from exc
    return path
