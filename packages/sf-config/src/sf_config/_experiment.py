"""The experiment folder and its saved configuration: where they are, reading config.json, layering it in.

Every run writes into ``train_dir/<experiment>/``: ``config.json`` (the run's resolved cfg), checkpoints, summaries
and the log file. This module is the one home of the folder's location, of config.json's name, of reading it, and of
layering it under a cfg when a run resumes or a policy is evaluated (the ``"saved"`` layer).

It lives in sf_config, not in sf_runtime.storage, because config.json is a configuration layer and both the runtime
and sf-cli need it without importing torch (sf-cli shows a resumed experiment's cfg and finds the env of the
experiment it evaluates before it imports the runtime). What needs the runtime stays there: writing config.json
atomically, the checkpoints, summaries and log file (:mod:`sf_runtime.storage`, which uses the names defined here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sf_config._config import Config
from sf_config._errors import ConfigError
from sf_config._resolve import with_saved_config

CONFIG_FILE = "config.json"
"""The name of the saved configuration in the experiment folder."""


def experiment_dir(cfg: Any) -> Path:
    """``train_dir/experiment`` of a cfg (or of anything with those two attributes); not created here."""
    return Path(cfg.train_dir) / cfg.experiment


def config_path(cfg: Any) -> Path:
    """``train_dir/experiment/config.json``."""
    return experiment_dir(cfg) / CONFIG_FILE


def load_saved_config(cfg: Any) -> dict[str, Any] | None:
    """The experiment's saved ``config.json`` as a dict, or None when the experiment has none (yet).

    Raises:
        ConfigError: config.json exists but cannot be read or is not a JSON object (the message names the file).
    """
    path = config_path(cfg)
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"the saved config {path} cannot be read ({exc}); fix or delete it, or start over with "
            "--restart_behavior=restart"
        ) from None
    if not isinstance(saved, dict):
        raise ConfigError(f"the saved config {path} holds a {type(saved).__name__}, not a JSON object of parameters")
    return saved


def layer_saved_config(cfg: Config, *, evaluation: bool = False) -> Config:
    """``cfg`` with the experiment's config.json layered under its explicit values (:func:`with_saved_config`).

    A training run layers it in only when it resumes (``restart_behavior=resume``); an evaluation always does.

    Returns:
        A new validated cfg, or ``cfg`` itself when there is nothing to layer (no config.json, or a run that
        restarts or overwrites the experiment).

    Raises:
        ConfigError: config.json cannot be read, or a saved value breaks a rule together with the given ones.
    """
    if not evaluation and cfg.restart_behavior != "resume":
        return cfg
    saved = load_saved_config(cfg)
    return cfg if saved is None else with_saved_config(cfg, saved)
