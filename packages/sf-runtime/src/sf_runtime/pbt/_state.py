"""What population-based training keeps in the experiment directory, under ``pbt/``.

- ``pbt/policy_XX.json``, one per policy, written atomically after each of its rounds: its hyperparameters, its
  reward-shaping scheme (None when the env has none), the env steps of its next round, and its counts of
  replacements and mutations. A resumed run starts from these.
- ``pbt/summary.jsonl``: one JSON line per round that changed something (a replacement, mutations of hyperparameters
  or of the reward shaping), appended and flushed: which policy, at which env steps and version, the ranking and
  objectives it was decided on, the policy copied and the gap, every ``old -> new`` value. A line cut short by a
  kill is skipped when read.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sf_config import experiment_dir
from sf_runtime.storage import atomic_write_bytes

log = logging.getLogger(__name__)

PBT_DIR = "pbt"
SUMMARY_FILE = "summary.jsonl"


@dataclass
class PolicySettings:
    """One policy's PBT state.

    Attributes:
        hyperparameters: the values of the mutable hyperparameters this policy trains with.
        reward_shaping: its reward-shaping scheme, or None when the env has no :class:`RewardShapingInterface`.
        next_round_env_steps: the policy's env steps at which its next round is due.
        replacements: how often it was replaced by a copy of a better policy.
        mutations: how many single values (hyperparameters or shaping terms) were perturbed.
    """

    hyperparameters: dict[str, float]
    reward_shaping: Any = None
    next_round_env_steps: int = 0
    replacements: int = 0
    mutations: int = 0

    def copy(self) -> PolicySettings:
        """A deep copy."""
        return copy.deepcopy(self)


def pbt_dir(cfg: Any) -> Path:
    """``<experiment dir>/pbt``."""
    return experiment_dir(cfg) / PBT_DIR


def policy_file(cfg: Any, policy_id: int) -> Path:
    """``<experiment dir>/pbt/policy_XX.json``."""
    return pbt_dir(cfg) / f"policy_{policy_id:02d}.json"


def summary_file(cfg: Any) -> Path:
    """``<experiment dir>/pbt/summary.jsonl``."""
    return pbt_dir(cfg) / SUMMARY_FILE


def save_policy_settings(cfg: Any, policy_id: int, settings: PolicySettings) -> None:
    """Write one policy's settings atomically."""
    path = policy_file(cfg, policy_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"policy_id": policy_id, **asdict(settings)}
    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def load_policy_settings(cfg: Any, policy_id: int) -> PolicySettings | None:
    """One policy's saved settings, or None when there are none (a new experiment) or the file is unreadable."""
    path = policy_file(cfg, policy_id)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("PBT: cannot read %s (%s); policy %d starts from the configuration", path, exc, policy_id)
        return None
    return PolicySettings(
        hyperparameters={k: float(v) for k, v in data["hyperparameters"].items()},
        reward_shaping=data.get("reward_shaping"),
        next_round_env_steps=int(data.get("next_round_env_steps", 0)),
        replacements=int(data.get("replacements", 0)),
        mutations=int(data.get("mutations", 0)),
    )


def append_summary(cfg: Any, record: dict[str, Any]) -> None:
    """Append one record to ``pbt/summary.jsonl`` and push it to disk."""
    path = summary_file(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_summary(cfg: Any) -> list[dict[str, Any]]:
    """Every record of ``pbt/summary.jsonl`` in order (a torn last line is skipped)."""
    path = summary_file(cfg)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records
