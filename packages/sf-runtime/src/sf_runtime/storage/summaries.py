"""TensorBoard summaries of one policy, under ``train_dir/experiment/.summary/<policy_id>/``."""

from __future__ import annotations

import contextlib
import logging
import numbers
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sf_config import experiment_dir
from sf_runtime.integrations import scalar_tee
from sf_runtime.storage.errors import StorageError

log = logging.getLogger(__name__)

SUMMARY_DIR = ".summary"


def summary_dir(cfg: Any, policy_id: int) -> Path:
    """``train_dir/experiment/.summary/<policy_id>``."""
    return experiment_dir(cfg) / SUMMARY_DIR / str(policy_id)


class SummaryWriter:
    """Writes scalars of one policy to TensorBoard event files.

    Tag names are the caller's, e.g. ``"reward/episode_reward"``, ``"train/loss"``, ``"perf/fps"``; TensorBoard groups
    them by the part before the first ``/``. With ``with_wandb`` every scalar also goes to the experiment's W&B run
    (:mod:`sf_runtime.integrations.wandb_run`), which opens with the writer.

    Attributes:
        log_dir: where the event files go.
    """

    def __init__(self, cfg: Any, policy_id: int = 0, flush_secs: int = 20):
        from torch.utils.tensorboard import SummaryWriter as _TorchSummaryWriter  # slow import: only when needed

        self.log_dir = summary_dir(cfg, policy_id)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = _TorchSummaryWriter(log_dir=str(self.log_dir), flush_secs=flush_secs)
        try:
            self._tee = scalar_tee(cfg, policy_id)
        except BaseException:
            self._writer.close()
            raise

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        # TensorBoard writes from a thread and re-raises its OSError (e.g. a full disk) here, naming no file.
        try:
            yield
        except OSError as exc:
            raise StorageError(
                f"Cannot write TensorBoard summaries to {self.log_dir} ({exc.strerror or exc}); free disk space or "
                "fix permissions of the train_dir."
            ) from exc

    def scalar(self, tag: str, value: float, step: int) -> None:
        """Writes one scalar at env step ``step``.

        Raises:
            StorageError: the event file cannot be written (names the directory and the reason).
        """
        with self._writing():
            self._writer.add_scalar(tag, float(value), global_step=int(step))
        if self._tee is not None:
            self._tee.log({tag: float(value)}, int(step))

    def scalars(self, values: dict[str, Any], step: int) -> None:
        """Writes every real-number entry of values (numbers, numpy scalars, 0-d tensors) at env step ``step``.

        None and non-numeric entries are skipped; NaN and inf are written as they are.

        Raises:
            StorageError: the event file cannot be written (names the directory and the reason).
        """
        with self._writing():
            written = self._add_scalars(values, step)
        if self._tee is not None:
            self._tee.log(written, int(step))

    def _add_scalars(self, values: dict[str, Any], step: int) -> dict[str, float]:
        written: dict[str, float] = {}
        for tag, value in values.items():
            if value is None or isinstance(value, str):
                continue
            if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
                value = value.item()
            if isinstance(value, numbers.Real):
                written[tag] = float(value)
                self._writer.add_scalar(tag, written[tag], global_step=int(step))
        return written

    def flush(self) -> None:
        """Writes buffered events to disk.

        Raises:
            StorageError: the event file cannot be written (names the directory and the reason).
        """
        with self._writing():
            self._writer.flush()

    def close(self) -> None:
        """Flushes and closes the event file (and releases the W&B run); a failure to write the last events is
        logged, not raised."""
        try:
            self._writer.close()
        except OSError as exc:
            log.warning("The last TensorBoard summaries in %s were not written: %s", self.log_dir, exc)
        finally:
            if self._tee is not None:
                self._tee.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
