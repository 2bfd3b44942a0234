"""``sf-cli sweep``: a sweep of ``sf-cli train`` runs (2 x 2 CartPole, one failing), the re-run that does only the
failed one, ``--dry-run``, and errors."""

from __future__ import annotations

import shlex
import sys
import textwrap

from sf_cli import cli

# An env module for ``sf-cli train --env-module``: flaky_cartpole fails on purpose for seed 2 while SWEEP_TEST_FAIL=1.
FLAKY_ENVS = textwrap.dedent(
    """
    import os

    import gymnasium
    from sf_registry import register_env


    def make_flaky_cartpole(full_env_name, cfg=None, env_config=None, render_mode=None):
        if os.environ.get("SWEEP_TEST_FAIL") == "1" and cfg is not None and cfg.seed == 2:
            raise RuntimeError("flaky_cartpole fails on purpose for seed 2")
        return gymnasium.make("CartPole-v1", render_mode=render_mode)


    register_env("flaky_cartpole", make_flaky_cartpole)
    """
)


def _write_sweep(tmp_path, train_args: list[str]):
    envs = tmp_path / "flaky_envs.py"
    envs.write_text(FLAKY_ENVS)
    cmd = shlex.join([sys.executable, "-m", "sf_cli", "train", "--env-module", str(envs), *train_args])
    desc = tmp_path / "cli_sweep.py"
    desc.write_text(
        textwrap.dedent(
            f"""
            from sf_runtime import Experiment, ParamGrid, RunDescription

            _params = ParamGrid([("env", ["CartPole-v1", "flaky_cartpole"]), ("seed", [1, 2])])
            RUN_DESCRIPTION = RunDescription(
                "cli_sweep", experiments=[Experiment("cp", {cmd!r}, _params.generate_params(randomize=False))]
            )
            """
        )
    )
    return desc


def test_sweep_of_sf_cli_train_runs_and_a_rerun_that_does_only_the_failed_one(
    tmp_path, sf_cli_process, fast_train_args
):
    train_args = [a for a in fast_train_args if not a.startswith("--seed")] + ["--train_for_env_steps=3000"]
    desc = _write_sweep(tmp_path, train_args)
    args = ["sweep", str(desc), "--train_dir", "td", "--max-parallel", "2", "--pause-between", "0", "--num_gpus=0"]

    first = sf_cli_process(args, cwd=tmp_path, env={"SWEEP_TEST_FAIL": "1"}, timeout=600)
    assert first.returncode == 1, first.stdout + first.stderr
    failing = "cp_env_flaky_cartpole_seed_2"
    assert "3 finished, 1 failed" in first.stdout
    assert f"[sweep] FAILED {failing} (exit 1); log {tmp_path / 'td' / 'cli_sweep' / failing / 'sweep_log.txt'}:" in (
        first.stdout
    )
    assert "flaky_cartpole fails on purpose for seed 2" in first.stdout  # the tail of its log
    for name in ("cp_env_CartPole-v1_seed_1", "cp_env_CartPole-v1_seed_2", "cp_env_flaky_cartpole_seed_1"):
        assert (tmp_path / "td" / "cli_sweep" / name / "config.json").is_file()

    plan = sf_cli_process(["sweep", str(desc), "--train_dir", "td", "--dry-run"], cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert f"{failing}  [failed (exit 1), runs again]" in plan.stdout
    assert plan.stdout.count("[finished]") == 3 and "nothing was run" in plan.stdout

    again = sf_cli_process(args, cwd=tmp_path, env={"SWEEP_TEST_FAIL": "0"}, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "3 finished earlier, 1 to run" in again.stdout
    assert again.stdout.count("[sweep] started  ") == 1 and f"[sweep] finished {failing}: exit 0" in again.stdout


def test_dry_run_lists_the_runs_and_their_command_lines(tmp_path, runner):
    desc = _write_sweep(tmp_path, ["--serial_mode"])
    result = runner.invoke(cli, ["sweep", str(desc), "--train-dir", str(tmp_path / "td"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "cli_sweep: 4 runs in" in result.stdout
    assert result.stdout.count("[new]") == 4
    assert "--env=flaky_cartpole --seed=2 --experiment=cp_env_flaky_cartpole_seed_2 --train_dir=" in result.stdout
    assert not (tmp_path / "td").exists()


def test_unknown_run_description_is_a_usage_error(tmp_path, runner):
    result = runner.invoke(cli, ["sweep", "no_such_sweep_module_anywhere"])
    assert result.exit_code == 2
    assert "no run description module 'no_such_sweep_module_anywhere'" in result.stderr
    (tmp_path / "nothing.py").write_text("X = 1\n")
    result = runner.invoke(cli, ["sweep", str(tmp_path / "nothing.py")])
    assert result.exit_code == 2 and "must define RUN_DESCRIPTION" in result.stderr
