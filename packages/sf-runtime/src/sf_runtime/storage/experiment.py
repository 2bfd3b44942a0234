"""The experiment directory ``train_dir/<experiment>/`` and what ``restart_behavior`` does with an existing one.

* ``resume`` (default): keep the directory; training continues from its ``config.json`` and latest checkpoints.
* ``restart``: move the old directory aside, to ``train_dir/<experiment>_old_<YYYYmmdd_HHMMSS>`` (a ``_2``, ``_3``...
  suffix if that exists), and start from scratch in a fresh one.
* ``overwrite``: delete the old directory and start from scratch.

Where the directory is (:func:`sf_config.experiment_dir`) is sf_config's, shared with the CLI; what happens to it on
disk is here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from sf_config import experiment_dir
from sf_runtime.storage.atomic import remove_stale_temp_files
from sf_runtime.storage.errors import StorageError

log = logging.getLogger(__name__)

RESTART_BEHAVIORS = ("resume", "restart", "overwrite")
# Below this much free space, training would fail at its first checkpoint: refuse to start.
MIN_FREE_BYTES = 16 * 1024 * 1024


def _moved_aside_name(exp_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%d_%H%M%S")
    candidate = exp_dir.with_name(f"{exp_dir.name}_old_{stamp}")
    n = 2
    while candidate.exists():
        candidate = exp_dir.with_name(f"{exp_dir.name}_old_{stamp}_{n}")
        n += 1
    return candidate


def check_writable(directory: Path, min_free_bytes: int = MIN_FREE_BYTES) -> None:
    """Raises StorageError unless a file can be written in directory and it has min_free_bytes of free space."""
    probe = directory / f".write_test{os.getpid()}"
    try:
        with open(probe, "wb") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise StorageError(
            f"Cannot write to the experiment directory {directory} ({exc.strerror or exc}); choose a writable "
            "--train_dir or fix its permissions."
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    free = shutil.disk_usage(directory).free
    if free < min_free_bytes:
        raise StorageError(
            f"The experiment directory {directory} has only {free / 2**20:.1f} MiB free (at least "
            f"{min_free_bytes / 2**20:.0f} MiB needed for checkpoints); free some space or choose another --train_dir."
        )


def prepare_experiment_dir(cfg: Any) -> Path:
    """Creates (or reuses, moves aside, wipes) the experiment directory per ``cfg.restart_behavior``.

    Call it before training starts, with the run's final cfg (the saved config.json already layered in when
    resuming: :func:`sf_config.layer_saved_config`), then save that cfg.

    Returns:
        The experiment directory, existing and writable.

    Raises:
        StorageError: the directory cannot be created or written, or the disk is (nearly) full.
        ValueError: an unknown restart_behavior.
    """
    behavior = cfg.restart_behavior
    if behavior not in RESTART_BEHAVIORS:
        raise ValueError(f"restart_behavior={behavior!r} is not one of {list(RESTART_BEHAVIORS)}")
    exp_dir = experiment_dir(cfg)
    if exp_dir.exists() and not exp_dir.is_dir():
        raise StorageError(f"The experiment path {exp_dir} exists and is not a directory; remove it or rename it.")
    if exp_dir.is_dir() and any(exp_dir.iterdir()):
        if behavior == "restart":
            aside = _moved_aside_name(exp_dir)
            try:
                exp_dir.rename(aside)
            except OSError as exc:
                raise StorageError(f"Cannot move the old experiment {exp_dir} aside to {aside}: {exc}") from exc
            log.warning("restart_behavior=restart: moved the old experiment %s to %s", exp_dir, aside)
        elif behavior == "overwrite":
            try:
                shutil.rmtree(exp_dir)
            except OSError as exc:
                raise StorageError(f"Cannot delete the old experiment {exp_dir}: {exc}") from exc
            log.warning("restart_behavior=overwrite: deleted the old experiment %s", exp_dir)
        else:
            log.info("Resuming experiment in %s", exp_dir)
    try:
        exp_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"Cannot create the experiment directory {exp_dir} ({exc.strerror or exc}); choose a writable "
            f"--train_dir (now {cfg.train_dir!r})."
        ) from exc
    check_writable(exp_dir)
    for stale in remove_stale_temp_files(exp_dir):
        log.info("Removed %s, left by a write that did not finish (the run was killed)", stale)
    return exp_dir


def check_checkpoint_space(cfg: Any, model_bytes: int) -> int:
    """Raises StorageError unless the experiment directory has room for the checkpoints of a model of this size.

    A checkpoint holds the weights and the optimizer's two moment estimates (about three times the model), and a new
    one is written before the oldest of the ``keep_checkpoints`` is deleted; a best checkpoint may sit beside them.

    Args:
        cfg: the configuration (``train_dir``, ``experiment``, ``keep_checkpoints``, ``num_policies``).
        model_bytes: bytes of one policy's state dict (parameters and buffers).

    Returns:
        The bytes required.
    """
    per_checkpoint = 3 * int(model_bytes) + 64 * 1024
    copies = int(cfg.keep_checkpoints) + 2
    needed = max(MIN_FREE_BYTES, per_checkpoint * copies * int(cfg.num_policies))
    exp_dir = experiment_dir(cfg)
    free = shutil.disk_usage(exp_dir).free
    if free < needed:
        raise StorageError(
            f"The experiment directory {exp_dir} has only {free / 2**20:.1f} MiB free, but the checkpoints of this "
            f"run need {needed / 2**20:.1f} MiB ({copies} copies of about {per_checkpoint / 2**20:.1f} MiB per "
            "policy); free some space, choose another --train_dir, or lower --keep_checkpoints."
        )
    return needed
