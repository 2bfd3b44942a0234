"""The experiment directory on disk: preparing it, writing config.json, checkpoints, summaries, the log file.

Private to sf_runtime; the names below are what the rest of the runtime uses. The directory's location, config.json's
name and reading it back are :mod:`sf_config`'s (``experiment_dir``, ``CONFIG_FILE``, ``load_saved_config``), shared
with the CLI without torch.
"""

from sf_runtime.storage.atomic import atomic_write, atomic_write_bytes
from sf_runtime.storage.checkpoints import (
    CheckpointInfo,
    CheckpointManager,
    checkpoint_dir,
    load_checkpoint_file,
    state_digest,
)
from sf_runtime.storage.config_file import save_config
from sf_runtime.storage.errors import CheckpointError, StorageError
from sf_runtime.storage.experiment import (
    RESTART_BEHAVIORS,
    check_checkpoint_space,
    check_writable,
    prepare_experiment_dir,
)
from sf_runtime.storage.log_file import LOG_FILE, close_log_file, setup_log_file
from sf_runtime.storage.summaries import SummaryWriter, summary_dir

__all__ = [
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
    "load_checkpoint_file",
    "prepare_experiment_dir",
    "save_config",
    "setup_log_file",
    "state_digest",
    "summary_dir",
]
