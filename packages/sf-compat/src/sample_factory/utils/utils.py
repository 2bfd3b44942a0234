"""``sample_factory.utils.utils``: script helpers (``str2bool``, ``experiment_dir``: sf_config; others: sf_runtime)."""

from sf_config import experiment_dir, str2bool
from sf_runtime import (
    debug_log_every_n,
    ensure_dir_exists,
    is_module_available,
    log,
    project_tmp_dir,
    safe_ensure_dir_exists,
    static_vars,
)

__all__ = [
    "debug_log_every_n",
    "ensure_dir_exists",
    "experiment_dir",
    "is_module_available",
    "log",
    "project_tmp_dir",
    "safe_ensure_dir_exists",
    "static_vars",
    "str2bool",
]
