"""Learning curves: a short CartPole run's episode/reward starts at the random policy's reward and has many points;
``sf-cli plot`` overlays runs with their mean and spread and writes what it plots as CSV."""

from __future__ import annotations

import csv

import pytest
import torch

from sf_cli import cli
from sf_cli._plot_cmd import load_scalars
from sf_config import make_cfg
from sf_runtime import run_rl

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The README's CartPole settings (sf-cli's defaults for it), serial and small enough for seconds-long runs.
RUN = dict(
    env="CartPole-v1",
    serial_mode=True,
    device="cpu",
    use_rnn=False,
    encoder_mlp_layers=[64, 64],
    learning_rate=1e-3,
    reward_scale=0.1,
    num_workers=1,
    num_envs_per_worker=8,
    rollout=16,
    batch_size=128,
    num_batches_per_epoch=2,
    num_epochs=4,
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two short CartPole runs in one train_dir: (train_dir, {experiment: episode/reward points}).

    The runs are bounded by env steps, not seconds: on a busy machine a run then takes longer instead of learning less,
    and the summaries' interval (a fiftieth of the run so far) still gives its curve its points.
    """
    torch.set_num_threads(1)
    train_dir = tmp_path_factory.mktemp("curves")
    for experiment, steps, seed in (("cp_seed1", 100_000, 1), ("cp_seed2", 20_000, 2)):
        cfg = make_cfg(**RUN, experiment=experiment, train_dir=str(train_dir), train_for_env_steps=steps, seed=seed)
        assert run_rl(cfg) == 0
    points = {e: load_scalars(train_dir / e / ".summary" / "0")["episode/reward"] for e in ("cp_seed1", "cp_seed2")}
    return train_dir, points


def test_a_short_run_draws_a_curve_from_the_random_policy(runs):
    _train_dir, points = runs
    rewards = points["cp_seed1"]
    assert len(rewards) >= 30, len(rewards)
    first_value = rewards[0][2]
    assert first_value < 40, rewards[:5]  # a random policy averages ~22
    assert rewards[0][0] <= 2048  # written after the first few hundred env steps


def test_overlay_of_two_runs_writes_a_png_and_the_plotted_points_as_csv(runs, runner, tmp_path):
    train_dir, points = runs
    out, table = tmp_path / "seeds.png", tmp_path / "seeds.csv"
    args = ["plot", "cp_seed*", "--train_dir", str(train_dir), "-o", str(out), "--csv", str(table)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [str(out), str(table)]
    assert out.read_bytes().startswith(PNG_SIGNATURE) and out.stat().st_size > 10_000
    with table.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for experiment, expected in points.items():
        mine = [r for r in rows if r["experiment"] == experiment]
        assert {r["stat"] for r in mine} == {"value"} and {r["summary"] for r in mine} == {"episode/reward"}
        assert [(int(r["env_steps"]), float(r["value"])) for r in mine] == [(s, v) for s, _t, v in expected]
    group = {
        stat: [r for r in rows if r["experiment"] == "cp_seed*" and r["stat"] == stat]
        for stat in ("mean", "min", "max")
    }
    assert len(group["mean"]) == len(group["min"]) == len(group["max"]) > 10
    overlap = (max(p[0][0] for p in points.values()), min(p[-1][0] for p in points.values()))
    for mean, low, high in zip(group["mean"], group["min"], group["max"], strict=True):
        assert float(low["value"]) <= float(mean["value"]) <= float(high["value"])
        assert overlap[0] <= float(mean["env_steps"]) <= overlap[1]


def test_separate_groups_and_std_spread(runs, runner, tmp_path):
    train_dir, _ = runs
    table = tmp_path / "groups.csv"
    args = ["plot", "--groups", "cp_seed1", "cp_seed2", "--train_dir", str(train_dir), "-o", str(tmp_path / "g.png")]
    result = runner.invoke(cli, [*args, "--csv", str(table), "--spread", "std"])
    assert result.exit_code == 0, result.output
    with table.open(newline="") as handle:
        stats = {r["stat"] for r in csv.DictReader(handle)}
    assert stats == {"value"}  # one run per group: no mean to draw
    result = runner.invoke(
        cli,
        [
            "plot",
            "cp_seed*",
            "--train_dir",
            str(train_dir),
            "--csv",
            str(table),
            "--spread",
            "std",
            "-o",
            str(tmp_path / "s.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    with table.open(newline="") as handle:
        assert {r["stat"] for r in csv.DictReader(handle)} == {"value", "mean", "mean-std", "mean+std"}


def test_a_glob_that_matches_nothing_is_bad_input(runs, runner):
    train_dir, _ = runs
    result = runner.invoke(cli, ["plot", "nothing_*", "--train_dir", str(train_dir)])
    assert result.exit_code == 2
    assert "no experiment with summaries matches 'nothing_*'" in result.stderr
