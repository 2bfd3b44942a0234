"""Checkpoints of one policy in ``train_dir/experiment/checkpoint_p<policy_id>/``.

Files:

* ``checkpoint_<policy_version:09d>_<env_steps>.pth``: the latest ``keep_checkpoints`` of them are kept; names sort
  by policy version.
* ``best_<policy_version:09d>_<env_steps>_<save_best_metric>_<metric>.pth``: the single best by ``save_best_metric``
  among those offered after ``save_best_after`` env steps.

Every file is an ordinary ``torch.save`` archive that loads with ``torch.load(path, weights_only=True)``: only
tensors and plain Python values (dict, list, tuple, str, int, float, bool, None) may be inside, which :meth:`save`
checks before writing. It is written to a temporary file and renamed into place (see :mod:`.atomic`), so a killed
process never leaves a torn checkpoint under a final name. To also catch files damaged later (a truncated copy, a bad
disk), the archive holds a BLAKE2 digest of its content under the key ``"__sf_checkpoint__"``; :meth:`load` checks it,
and when a checkpoint cannot be loaded it says so, sets the file aside as ``<name>.corrupt`` and falls back to the
previous intact one, or raises :class:`CheckpointError` when none is left.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import logging
import re
from pathlib import Path
from typing import Any

import attrs
import torch

from sf_config import experiment_dir
from sf_runtime.storage.atomic import atomic_write, remove_stale_temp_files
from sf_runtime.storage.errors import CheckpointError

log = logging.getLogger(__name__)

META_KEY = "__sf_checkpoint__"
CORRUPT_SUFFIX = ".corrupt"
_LATEST_RE = re.compile(r"^checkpoint_(\d+)_(\d+)\.pth$")
_BEST_RE = re.compile(r"^best_(\d+)_(\d+)_(.+)_(-?[0-9.eE+-]+|nan|-?inf)\.pth$")
# Exact types (not subclasses: numpy.float64 is a float but would not load with weights_only=True).
_PLAIN = (str, int, float, bool, type(None), bytes)
_DICTS = (dict, collections.OrderedDict)
_SEQUENCES = (list, tuple, torch.Size)


@attrs.frozen
class CheckpointInfo:
    """A checkpoint file and what its name says.

    Attributes:
        path: the file.
        kind: ``"latest"`` (a regular checkpoint) or ``"best"``.
        policy_version: the policy version (optimizer steps) saved.
        env_steps: env steps trained on when saved.
        metric: the best-checkpoint metric value (None for regular checkpoints).
    """

    path: Path
    kind: str
    policy_version: int
    env_steps: int
    metric: float | None = None


def checkpoint_dir(cfg: Any, policy_id: int) -> Path:
    """``train_dir/experiment/checkpoint_p<policy_id>``."""
    return experiment_dir(cfg) / f"checkpoint_p{policy_id}"


def _feed(h: Any, obj: Any, where: str) -> None:
    """Feeds a canonical byte form of obj into hash h; raises CheckpointError on values torch cannot load safely."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy())
    elif type(obj) in _DICTS:
        h.update(f"D{len(obj)}".encode())
        for key, value in obj.items():
            if type(key) not in _PLAIN:
                raise CheckpointError(f"checkpoint key {where}[{key!r}] is a {type(key).__name__}; use str or int keys")
            h.update(f"K{type(key).__name__}:{key!r}".encode())
            _feed(h, value, f"{where}[{key!r}]")
    elif type(obj) in _SEQUENCES:
        h.update(f"{type(obj).__name__}{len(obj)}".encode())
        for i, value in enumerate(obj):
            _feed(h, value, f"{where}[{i}]")
    elif type(obj) in _PLAIN:
        h.update(f"P{type(obj).__name__}:{obj!r}".encode())
    else:
        raise CheckpointError(
            f"checkpoint value {where} is a {type(obj).__module__}.{type(obj).__qualname__}; checkpoints hold only "
            "tensors, dicts, lists, tuples, str, int, float, bool and None (so they load with weights_only=True): "
            "convert it (e.g. a numpy array with torch.as_tensor, an object to its state dict)"
        )


def state_digest(state: dict[str, Any]) -> str:
    """BLAKE2b digest of a checkpoint state's content (tensors by dtype, shape and bytes; plain values by repr)."""
    h = hashlib.blake2b(digest_size=20)
    _feed(h, state, "state")
    return h.hexdigest()


def _parse(path: Path) -> CheckpointInfo | None:
    if m := _LATEST_RE.match(path.name):
        return CheckpointInfo(path, "latest", int(m.group(1)), int(m.group(2)))
    if m := _BEST_RE.match(path.name):
        return CheckpointInfo(path, "best", int(m.group(1)), int(m.group(2)), float(m.group(4)))
    return None


def load_checkpoint_file(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Loads one checkpoint with ``weights_only=True`` and verifies its digest.

    Returns:
        The saved state (without sf's ``"__sf_checkpoint__"`` record).

    Raises:
        CheckpointError: the file cannot be read or unpickled, or its content does not match its digest.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"checkpoint {path} cannot be loaded: {type(exc).__name__}: {exc}") from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(state).__name__}, not a dict")
    meta = state.pop(META_KEY, None)
    if meta is not None:
        expected = meta.get("digest") if isinstance(meta, dict) else None
        actual = state_digest(state)
        if expected != actual:
            raise CheckpointError(f"checkpoint {path} is corrupt: content digest {actual} != recorded {expected}")
    return state


class CheckpointManager:
    """Saves and loads the checkpoints of one policy (see the module docstring for files and guarantees).

    Args:
        cfg: the experiment configuration (``train_dir``, ``experiment``, ``keep_checkpoints``, ``save_best_metric``,
            ``save_best_after``).
        policy_id: the policy.

    Attributes:
        directory: ``train_dir/experiment/checkpoint_p<policy_id>``.
        last_loaded: the checkpoint the last :meth:`load` returned, or None.
        best_metric: the metric of the current best checkpoint, or None.
    """

    def __init__(self, cfg: Any, policy_id: int = 0):
        self.directory = checkpoint_dir(cfg, policy_id)
        self.policy_id = policy_id
        self.keep_checkpoints = int(cfg.keep_checkpoints)
        if self.keep_checkpoints < 1:
            raise ValueError(f"keep_checkpoints must be >= 1, got {self.keep_checkpoints}")
        self.metric_name = str(cfg.save_best_metric)
        self.save_best_after = int(cfg.save_best_after)
        self.last_loaded: CheckpointInfo | None = None
        for stale in remove_stale_temp_files(self.directory):
            log.info("Removed %s, left by a checkpoint write that did not finish", stale)
        best = self.list_checkpoints("best")
        self.best_metric: float | None = best[-1].metric if best else None

    def list_checkpoints(self, kind: str = "latest") -> list[CheckpointInfo]:
        """The checkpoint files of a kind (``"latest"`` or ``"best"``), oldest first."""
        if kind not in ("latest", "best"):
            raise ValueError(f"kind must be 'latest' or 'best', got {kind!r}")
        if not self.directory.is_dir():
            return []
        found = [info for p in self.directory.iterdir() if (info := _parse(p)) is not None and info.kind == kind]
        return sorted(found, key=lambda info: (info.policy_version, info.env_steps, info.path.name))

    def _write(self, path: Path, state: dict[str, Any]) -> None:
        if not isinstance(state, dict):
            raise CheckpointError(f"a checkpoint state must be a dict, got {type(state).__name__}")
        if META_KEY in state:
            raise CheckpointError(f"checkpoint state key {META_KEY!r} is reserved")
        payload = dict(state)
        payload[META_KEY] = {"digest": state_digest(state), "format": 1}
        buffer = io.BytesIO()
        torch.save(payload, buffer)  # serialize in memory first: only OS errors can happen on disk
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda f: f.write(buffer.getbuffer()))
        except OSError as exc:
            raise CheckpointError(
                f"Cannot write checkpoint {path} ({exc.strerror or exc}); the previous checkpoints in "
                f"{self.directory} are kept. Free disk space or fix permissions of the train_dir."
            ) from exc

    def save(self, state: dict[str, Any], env_steps: int, policy_version: int) -> Path:
        """Writes a regular checkpoint, then deletes the oldest beyond ``keep_checkpoints``.

        Args:
            state: tensors and plain values only (e.g. ``Learner.checkpoint_state()``, plus the runner's counters).
            env_steps: env steps trained on so far (in the file name).
            policy_version: the policy version (in the file name; names sort by it).

        Returns:
            The file written.

        Raises:
            CheckpointError: the state holds a value that would not load with ``weights_only=True``, or the file
                could not be written (the earlier checkpoints are then untouched).
        """
        path = self.directory / f"checkpoint_{int(policy_version):09d}_{int(env_steps)}.pth"
        self._write(path, state)
        log.debug("Saved checkpoint %s", path)
        for old in self.list_checkpoints("latest")[: -self.keep_checkpoints]:
            if old.path != path:
                with contextlib.suppress(OSError):
                    old.path.unlink()
        return path

    def is_new_best(self, metric: float | None, env_steps: int) -> bool:
        """Whether a metric would make a new best checkpoint: after ``save_best_after`` env steps, a number (not
        None or NaN), higher than the best so far (of this run and the earlier runs of the experiment)."""
        if metric is None or env_steps < self.save_best_after or metric != metric:  # NaN is never a best
            return False
        return self.best_metric is None or float(metric) > self.best_metric

    def save_best(self, state: dict[str, Any], metric: float, env_steps: int, policy_version: int = 0) -> Path | None:
        """Writes a best checkpoint when the metric makes a new best (:meth:`is_new_best`).

        Args:
            state: as for :meth:`save`.
            metric: the value of ``cfg.save_best_metric`` (higher is better), e.g. the average episode reward.
            env_steps: env steps trained on so far.
            policy_version: the policy version.

        Returns:
            The file written, or None when this is not a new best.
        """
        metric = float(metric)
        if not self.is_new_best(metric, env_steps):
            return None
        path = self.directory / f"best_{int(policy_version):09d}_{int(env_steps)}_{self.metric_name}_{metric:.6f}.pth"
        self._write(path, state)
        log.info("Saved new best checkpoint %s (%s %.3f)", path.name, self.metric_name, metric)
        self.best_metric = metric
        for old in self.list_checkpoints("best"):
            if old.path != path:
                with contextlib.suppress(OSError):
                    old.path.unlink()
        return path

    def load(self, kind: str = "latest", map_location: Any = "cpu") -> dict[str, Any] | None:
        """Loads the newest intact checkpoint of a kind.

        A checkpoint that fails to load (torn, truncated, digest mismatch, not weights_only-loadable) is logged as an
        error, renamed to ``<name>.corrupt`` and the previous one is tried; the fallback is logged as a warning.

        Args:
            kind: ``"latest"`` or ``"best"``.
            map_location: where tensors are loaded (``torch.load``'s map_location).

        Returns:
            The saved state, or None when there is no checkpoint of that kind (a fresh start).

        Raises:
            CheckpointError: checkpoints exist but none of them can be loaded.
        """
        candidates = self.list_checkpoints(kind)
        failures = []
        for info in reversed(candidates):
            try:
                state = load_checkpoint_file(info.path, map_location=map_location)
            except CheckpointError as exc:
                failures.append(str(exc))
                log.error("%s", exc)
                with contextlib.suppress(OSError):
                    info.path.rename(info.path.with_name(info.path.name + CORRUPT_SUFFIX))
                continue
            if failures:
                log.warning(
                    "Falling back to the previous intact checkpoint %s (%d newer one(s) could not be loaded)",
                    info.path,
                    len(failures),
                )
            self.last_loaded = info
            return state
        if failures:
            raise CheckpointError(
                f"No intact {kind} checkpoint in {self.directory}: "
                + "; ".join(failures)
                + ". Start over with --restart_behavior=restart, or restore a checkpoint file."
            )
        return None
