"""Population-based training end to end: 3 policies on ``shaped_cartpole`` (tests/runtime/pbt_envs.py), whose
``true_objective`` is the unshaped CartPole return (random policy about 22) and whose reward shaping PBT perturbs.

- serial: the run stops once its best policy's true objective averages the threshold; the saved state
  (``pbt/summary.jsonl``, ``pbt/policy_XX.json``, checkpoints) shows that every round followed the rules;
- parallel: killed with SIGKILL (whole process group) after PBT rounds and a checkpoint, then resumed: every policy
  resumes from its checkpoint with its saved PBT settings (the learner processes say so), nothing is left behind.
"""

from __future__ import annotations

import re
import signal
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
import pbt_envs  # noqa: F401  (registers shaped_cartpole)

torch.set_num_threads(1)

ENV_MODULE = Path(__file__).parent / "pbt_envs.py"
THRESHOLD = 100.0  # mean true objective (CartPole return) of the best policy; a random policy averages about 22
PBT = dict(env="shaped_cartpole", with_pbt=True, num_policies=3, pbt_replace_fraction=0.34)


class ShapingSeen(RunObserver):
    """The reward-shaping coefficients (``alive``) that each policy's episodes were played with."""

    def __init__(self) -> None:
        self.values: dict[int, set[float]] = {}

    def on_episode(self, run, policy_id, episode) -> None:
        self.values.setdefault(policy_id, set()).add(episode["alive"])


class StopAtObjective(RunObserver):
    """Stops the run once some policy's mean true objective reaches the threshold and, when ``seen`` is given, a
    mutated reward shaping has been played (a fast learner can reach the bar before any round mutated the shaping).
    """

    def __init__(self, threshold: float, seen: ShapingSeen | None = None) -> None:
        self.threshold = threshold
        self.seen = seen
        self.best = float("-inf")

    def on_iteration(self, run) -> None:
        for pid in run.policy_ids:
            value = run.stats[pid].mean("true_objective")
            if value is not None and run.stats[pid].num_episodes >= 20:
                self.best = max(self.best, value)
        if self.best < self.threshold:
            return
        if self.seen is None or mutated_shaping_played(self.seen, read_summary(run.cfg)):
            run.request_stop(f"a policy reached a true objective of {self.best:.1f}")


def mutated_shaping_played(seen: ShapingSeen, records) -> set[tuple[int, float]]:
    """The (policy, coefficient) pairs that a PBT round set and that policy's episodes were then played with."""
    mutated = {(r["policy_id"], new) for r in records for _old, new in r["reward_shaping"].values()}
    played = {(pid, value) for pid, values in seen.values.items() for value in values}
    return mutated & played


def check_shaping_reached_the_envs(seen: ShapingSeen, records) -> None:
    """Policy 0's envs keep the default shaping; a mutated shaping reached the envs of its policy."""
    assert seen.values[0] == {1.0}
    assert any(r["reward_shaping"] for r in records), records
    assert mutated_shaping_played(seen, records), (records, seen.values)


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
    seen = ShapingSeen()
    observer = StopAtObjective(THRESHOLD, seen)
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
        train_for_env_steps=90_000,  # stops at the bar; one loaded run missed it at 60k (cause not found)
    )
    start = time.monotonic()
    assert run_rl(cfg, observers=[observer, seen]) == 0
    print(f"\nserial PBT run: {time.monotonic() - start:.0f}s, best true objective {observer.best:.1f}")
    assert observer.best >= THRESHOLD

    records = read_summary(cfg)
    assert any("replaced_by" in r for r in records), records
    assert any(r["hyperparameters"] for r in records)
    check_rounds(cfg, records)
    check_shaping_reached_the_envs(seen, records)
    assert load_policy_settings(cfg, 0).mutations == 0
    for pid in range(3):
        assert CheckpointManager(cfg, pid).load() is not None


_RESUMED = re.compile(r"Policy (\d): resumed from checkpoint at (\d+) env steps")
_TRAINS_WITH = re.compile(r"Policy (\d): the learner (?:adopted .* and )?trains with PBT hyperparameters (.*)")


def _wait_until(condition, what: str, run, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if run.proc.poll() is not None:
            raise AssertionError(f"the run ended (code {run.proc.returncode}) before {what}:\n{run.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout}s:\n{run.output()}")
        time.sleep(0.2)


def _trains_with(output: str) -> list[tuple[int, dict[str, float]]]:
    """The PBT hyperparameters the learner processes reported, in order (the first of each policy: at its start)."""
    return [
        (int(pid), {k: float(v) for k, v in (pair.split("=") for pair in values.strip().split(", "))})
        for pid, values in _TRAINS_WITH.findall(output)
    ]


def _close(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(a[k] == pytest.approx(b[k], rel=1e-5) for k in a)


@pytest.mark.slow  # a fault-injection run of a minute and a half: the slow marker keeps the default suite short
def test_parallel_pbt_killed_then_resumed_restores_every_policy(training_process, run_config, tmp_path):
    cfg = run_config(
        **PBT,
        num_envs_per_worker=3,
        worker_num_splits=1,
        pbt_start_mutation=1000,
        pbt_period_env_steps=1000,
        pbt_mutation_rate=1.0,  # every round mutates: rounds show in the summary
        pbt_replace_reward_gap=0.0,  # any gap: the worst policy is replaced whenever it is not policy 0
        pbt_replace_reward_gap_absolute=0.0,
        max_policy_lag=50,
        save_every_sec=2,
        restart_behavior="resume",
        train_for_env_steps=10**9,
    )
    exp_cfg = make_cfg(**cfg, experiment="pbt_killed", train_dir=str(tmp_path))
    first = training_process("pbt_killed", cfg, env_module=ENV_MODULE)
    _wait_until(lambda: any("replaced_by" in r for r in read_summary(exp_cfg)), "a PBT replacement", first)
    applied = read_summary(exp_cfg)  # rounds the learners have had time to take by the next checkpoint
    saves = first.output().count("Saved checkpoints")
    _wait_until(lambda: first.output().count("Saved checkpoints") > saves, "a checkpoint after the rounds", first)
    first.send(signal.SIGKILL, group=True)
    first.wait()
    first.assert_clean()
    out = first.output()
    assert "PBT round of policy 0" not in out
    settings = {pid: load_policy_settings(exp_cfg, pid) for pid in range(3)}
    steps = {pid: CheckpointManager(exp_cfg, pid).load()["env_steps"] for pid in range(3)}
    assert sum(s.mutations for s in settings.values()) > 0 and settings[0].mutations == 0
    # the learner processes took every mutation (and copy) without a restart
    reported = _trains_with(out)
    for record in applied:
        pid = record["policy_id"]
        expected = {name: new for name, (_old, new) in record["hyperparameters"].items()}
        assert any(
            p == pid and all(v[k] == pytest.approx(x, rel=1e-5) for k, x in expected.items()) for p, v in reported
        )
        if "replaced_by" in record:
            adopted = re.search(
                rf"Policy {pid}: the learner adopted the weights of policy {record['replaced_by']}, "
                r"version (\d+) -> (\d+)",
                out,
            )
            assert adopted is not None, out
            assert int(adopted[2]) == int(adopted[1]) + 50 + 1  # past max_policy_lag: samples in flight are dropped

    # resume: a bounded run a little past the checkpoint
    more = dict(cfg, train_for_env_steps=max(steps.values()) + 1500)
    second = training_process("pbt_killed", more, env_module=ENV_MODULE)  # (its output file replaces the first's)
    assert second.wait(timeout=300) == 0, second.output()
    second.assert_clean()
    out = second.output()
    resumed = {int(pid): int(at) for pid, at in _RESUMED.findall(out)}
    assert resumed == steps, out
    first_reports = {}
    for pid, values in _trains_with(out):
        first_reports.setdefault(pid, values)
    assert set(first_reports) == {0, 1, 2}
    for pid in range(3):  # each learner process starts with its saved hyperparameters
        assert _close(first_reports[pid], settings[pid].hyperparameters), (pid, first_reports[pid], settings[pid])
    for pid in range(3):
        assert f"PBT: policy {pid} resumes with" in out
    records = read_summary(exp_cfg)
    check_rounds(exp_cfg, records)
    assert load_policy_settings(exp_cfg, 0).mutations == 0


@pytest.mark.slow
def test_parallel_sync_pbt_learns_to_a_high_true_objective(tmp_path, run_config, leftovers):
    """A longer parallel run in sync mode: the best of 3 policies reaches 300 (random: about 22; maximum: 500)."""
    seen = ShapingSeen()
    observer = StopAtObjective(300.0, seen)
    cfg = make_cfg(
        **run_config(
            **PBT,
            async_rl=False,
            num_envs_per_worker=6,
            worker_num_splits=1,
            rollout=32,
            batch_size=192,
            num_epochs=4,
            learning_rate=1e-3,
            encoder_mlp_layers=[64, 64],
            reward_scale=0.1,
            stats_avg=30,
            heartbeat_reporting_interval=60,
        ),
        pbt_start_mutation=5000,
        pbt_period_env_steps=5000,
        pbt_mutation_rate=0.3,
        experiment="pbt_sync",
        train_dir=str(tmp_path),
        train_for_env_steps=400_000,
    )
    start = time.monotonic()
    assert run_rl(cfg, observers=[observer, seen]) == 0
    print(f"\nparallel sync PBT run: {time.monotonic() - start:.0f}s, best true objective {observer.best:.1f}")
    assert observer.best >= 300.0
    records = read_summary(cfg)
    check_rounds(cfg, records)
    check_shaping_reached_the_envs(seen, records)  # through the rollout worker processes
    children, segments = leftovers()
    assert children == [] and segments == set()
