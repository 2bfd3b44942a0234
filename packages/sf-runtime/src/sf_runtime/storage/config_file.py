"""``config.json``: the resolved configuration of an experiment, written atomically."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sf_runtime.integrations import ensure_wandb_id
from sf_runtime.storage.atomic import atomic_write_bytes
from sf_runtime.storage.errors import StorageError
from sf_runtime.storage.experiment import experiment_dir

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"


def config_path(cfg: Any) -> Path:
    """``train_dir/experiment/config.json``."""
    return experiment_dir(cfg) / CONFIG_FILE


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


def load_saved_config(cfg: Any) -> dict[str, Any] | None:
    """Reads the experiment's ``config.json``.

    Returns:
        The saved parameters as a dict, or None when the experiment has no config.json yet.

    Raises:
        StorageError: config.json exists but is not a JSON object (the message names the file).
    """
    path = config_path(cfg)
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StorageError(
            f"The saved config {path} cannot be read ({exc}); fix or delete it, or start over with "
            "--restart_behavior=restart."
        ) from exc
    if not isinstance(saved, dict):
        raise StorageError(f"The saved config {path} holds a {type(saved).__name__}, not a JSON object.")
    return saved
