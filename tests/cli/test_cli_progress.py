"""The progress line of ``sf-cli train`` for each kind of budget, computed from a real run lifecycle's counters."""

from __future__ import annotations

import io

from sf_cli._observers import ProgressObserver
from sf_config import make_cfg
from sf_runtime import ExperimentLifecycle


def _run(tmp_path, **overrides):
    cfg = make_cfg(env="CartPole-v1", experiment="p", train_dir=str(tmp_path), **overrides)
    return ExperimentLifecycle(cfg, policy_ids=[0])  # not started: only its counters are read


def test_env_step_budget(tmp_path):
    run = _run(tmp_path, train_for_env_steps=10_000)
    run.add_env_steps(0, 2_500)
    fraction, text = ProgressObserver(io.StringIO(), bar=False).line(run, fps=500.0)
    assert fraction == 0.25
    assert text.startswith("2.5k/10.0k env steps | 500 FPS | reward - | ETA 0:15 | elapsed ")


def test_reward_after_episodes(tmp_path):
    run = _run(tmp_path, train_for_env_steps=10_000)
    run.record_episodes(0, [{"reward": 10.0, "length": 10}, {"reward": 20.0, "length": 20}])
    _, text = ProgressObserver(io.StringIO(), bar=False).line(run, fps=0.0)
    assert "reward 15.00" in text and "ETA ?" in text


def test_time_budget_ends_first(tmp_path):
    run = _run(tmp_path, train_for_env_steps=1_000_000, train_for_seconds=3600)
    run.add_env_steps(0, 100)
    fraction, text = ProgressObserver(io.StringIO(), bar=False).line(run, fps=1.0)
    assert fraction is not None and fraction < 0.01
    eta = text.split("ETA ")[1].split(" ")[0]
    assert eta.startswith("59:") or eta == "1:00:00"  # the hour runs out before the million steps


def test_no_budget_has_no_fraction_and_no_eta(tmp_path):
    run = _run(tmp_path)  # the schema's unbounded budgets
    run.add_env_steps(0, 1_234_567)
    fraction, text = ProgressObserver(io.StringIO(), bar=False).line(run, fps=10_000.0)
    assert fraction is None
    assert text.startswith("1.2M env steps | 10,000 FPS") and "ETA" not in text


def test_plain_lines_are_throttled(tmp_path):
    run = _run(tmp_path, train_for_env_steps=1000)
    out = io.StringIO()
    observer = ProgressObserver(out, bar=False, interval=3600)
    observer.on_start(run)
    for _ in range(5):
        run.add_env_steps(0, 100)
        observer.on_iteration(run)
    observer.on_finish(run)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # the start, then the end; iterations in between fall inside the interval
    assert lines[0].startswith("progress:   0.0% | 0/1.0k env steps") and lines[1].startswith("progress:  50.0% |")


def test_several_policies_show_each_policys_fps_and_reward(tmp_path):
    cfg = make_cfg(
        env="CartPole-v1", experiment="p", train_dir=str(tmp_path), num_policies=2, train_for_env_steps=10_000
    )
    run = ExperimentLifecycle(cfg, policy_ids=[0, 1])
    run.record_episodes(1, [{"reward": 4.0, "length": 4}])
    _, text = ProgressObserver(io.StringIO(), bar=False).line(run, fps=300.0, policy_fps={0: 100.0, 1: 200.0})
    assert "300 FPS | p0 100 FPS reward - | p1 200 FPS reward 4.00 |" in text
