"""Population-based training end to end: 3 policies on ``shaped_cartpole`` (tests/runtime/pbt_envs.py), whose
``true_objective`` is the unshaped CartPole return (random policy about 22) and whose reward shaping PBT perturbs.

- serial: the run stops once its best policy's true objective averages the threshold; the saved state
  (``pbt/summary.jsonl``, ``pbt/policy_XX.json``, checkpoints) shows that every round followed the rules;
- parallel: killed with SIGKILL (whole process group) after PBT rounds and a checkpoint, then resumed: every policy
  resumes from its checkpoint with its saved PBT settings (the learner processes say so), nothing is left behind.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sf_config import make_cfg
from sf_runtime import RunObserver, run_rl
from sf_runtime.pbt import HYPERPARAMETERS, load_policy_settings, read_summary
from sf_runtime.storage import CheckpointManager

sys.path.insert(0, str(Path(__file__).parent))
import pbt_envs  # noqa: E402,F401  (registers shaped_cartpole)

torch.set_num_threads(1)

ENV_MODULE = Path(__file__).parent / "pbt_envs.py"
THRESHOLD = 100.0  # mean true objective (CartPole return) of the best policy; a random policy averages about 22
PBT = dict(env="shaped_cartpole", with_pbt=True, num_policies=3, pbt_replace_fraction=0.34)


class StopAtObjective(RunObserver):
    """Stops the run once some policy's mean true objective reaches the threshold."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.best = float("-inf")

    def on_iteration(self, run) -> None:
        for pid in run.policy_ids:
            value = run.stats[pid].mean("true_objective")
            if value is not None and run.stats[pid].num_episodes >= 20:
                self.best = max(self.best, value)
        if self.best >= self.threshold:
            run.request_stop(f"a policy reached a true objective of {self.best:.1f}")


def check_rounds(cfg, records):
    """Every record of pbt/summary.jsonl follows the rules, and replaying them gives the saved settings."""
    base = {name: float(cfg[name]) for name in HYPERPARAMETERS}
    settings = {pid: dict(base) for pid in range(3)}
    shaping = {pid: 1.0 for pid in range(3)}
    lo, hi = cfg.pbt_perturb_min, cfg.pbt_perturb_max
    for record in records:
        pid = record["policy_id"]
        assert pid != 0, "policy 0 is never mutated"
        objectives = {int(p): v for p, v in record["objectives"].items()}
        ranking = record["ranking"]
        assert ranking == sorted(ranking, key=lambda p: (-objectives[p], p))
        if "replaced_by" in record:
            source = record["replaced_by"]
            gap = objectives[source] - objectives[pid]
            assert ranking[0] == source and ranking[-1] == pid  # 1 of 3: the best replaces the worst
            assert gap == pytest.approx(record["gap"])
            assert gap > cfg.pbt_replace_reward_gap_absolute and gap > cfg.pbt_replace_reward_gap * abs(
                objectives[source]
            )
            assert record["copied_hyperparameters"] == settings[source]
            settings[pid] = dict(settings[source])
            shaping[pid] = shaping[source]
            if "policy_version_after" in record:
                assert record["policy_version_after"] == record["policy_version"] + cfg.max_policy_lag + 1
        for name, (old, new) in record["hyperparameters"].items():
            assert settings[pid][name] == old
            factor = new / old
            assert lo - 1e-9 <= factor <= hi + 1e-9 or 1 / hi - 1e-9 <= factor <= 1 / lo + 1e-9, (name, factor)
            settings[pid][name] = new
        for _term, (old, new) in record["reward_shaping"].items():
            assert shaping[pid] == old
            shaping[pid] = new
    for pid in range(3):
        saved = load_policy_settings(cfg, pid)
        assert saved.hyperparameters == settings[pid]
        assert saved.reward_shaping == {"alive": shaping[pid]}
    return settings


def test_serial_pbt_follows_the_rules_and_the_best_policy_reaches_the_threshold(tmp_path, learning_config):
    observer = StopAtObjective(THRESHOLD)
    cfg = make_cfg(
        **learning_config(num_envs_per_worker=12, batch_size=128, num_batches_per_epoch=1, stats_avg=30, seed=0),
        **PBT,
        reward_scale=0.1,
        pbt_start_mutation=1024,
        pbt_period_env_steps=1024,
        pbt_mutation_rate=0.5,
        pbt_replace_reward_gap=0.05,
        experiment="pbt_serial",
        train_dir=str(tmp_path),
        train_for_env_steps=60_000,
    )
    start = time.monotonic()
    assert run_rl(cfg, observers=[observer]) == 0
    print(f"\nserial PBT run: {time.monotonic() - start:.0f}s, best true objective {observer.best:.1f}")
    assert observer.best >= THRESHOLD

    records = read_summary(cfg)
    assert any("replaced_by" in r for r in records), records
    assert any(r["hyperparameters"] for r in records)
    check_rounds(cfg, records)
    assert load_policy_settings(cfg, 0).mutations == 0
    for pid in range(3):
        assert CheckpointManager(cfg, pid).load() is not None
