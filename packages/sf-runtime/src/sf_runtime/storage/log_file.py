"""The experiment's log file ``sf_log.txt``: every log record of the run, appended across resumes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sf_config import experiment_dir

LOG_FILE = "sf_log.txt"
LOG_FORMAT = "[%(asctime)s][%(process)d][%(name)s] %(levelname)s: %(message)s"
# The loggers of sf's packages are lowered to INFO (if not configured otherwise) so their records reach the file.
SF_LOGGERS = ("sf_runtime", "sf_config", "sf_registry", "sf_cli", "sf_examples", "sample_factory")


def setup_log_file(cfg: Any, level: int = logging.INFO) -> logging.FileHandler:
    """Attaches a file handler writing to ``train_dir/experiment/sf_log.txt`` to the root logger.

    Calling it again for the same file returns the existing handler.

    Args:
        cfg: the experiment configuration.
        level: the lowest level written to the file.

    Returns:
        The handler; pass it to :func:`close_log_file` when the run ends.
    """
    path = (experiment_dir(cfg) / LOG_FILE).resolve()
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            return handler
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    for name in SF_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(level)
    return handler


def close_log_file(handler: logging.Handler) -> None:
    """Detaches the handler from the root logger and closes the file."""
    logging.getLogger().removeHandler(handler)
    handler.close()
