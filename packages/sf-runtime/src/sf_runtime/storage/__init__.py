"""The experiment directory: config.json, checkpoints, summaries, log file.

Private to sf_runtime; the names below are what the rest of the runtime uses.
"""

from sf_runtime.storage.atomic import atomic_write, atomic_write_bytes
from sf_runtime.storage.checkpoints import (
    CheckpointInfo,
    CheckpointManager,
    checkpoint_dir,
    load_checkpoint_file,
    state_digest,
)
from sf_runtime.storage.config_file import CONFIG_FILE, config_path, load_saved_config, save_config
from sf_runtime.storage.errors import CheckpointError, StorageError
from sf_runtime.storage.experiment import (
    RESTART_BEHAVIORS,
    check_checkpoint_space,
    check_writable,
    experiment_dir,
    prepare_experiment_dir,
)
from sf_runtime.storage.log_file import LOG_FILE, close_log_file, setup_log_file
from sf_runtime.storage.summaries import SummaryWriter, summary_dir

__all__ = [
    "CONFIG_FILE",
    "LOG_FILE",
    "RESTART_BEHAVIORS",
    "CheckpointError",
    "CheckpointInfo",
    "CheckpointManager",
    "StorageError",
    "SummaryWriter",
    "atomic_write",
    "atomic_write_bytes",
    "check_checkpoint_space",
    "check_writable",
    "checkpoint_dir",
    "close_log_file",
    "config_path",
    "experiment_dir",
    "load_checkpoint_file",
    "load_saved_config",
    "prepare_experiment_dir",
    "save_config",
    "setup_log_file",
    "state_digest",
    "summary_dir",
]
