"""Bad input gives one clear line (no traceback) and exit code 2; ``--debug`` shows the traceback."""

from __future__ import annotations

import pytest

from sf_cli import cli


@pytest.mark.parametrize("command", ["train", "config", "bench"])
def test_parameter_typo_suggests_the_name(runner, command):
    result = runner.invoke(cli, [command, "--env", "CartPole-v1", "--learning_rat", "3e-4"])
    assert result.exit_code == 2
    assert "unknown parameter --learning_rat; did you mean --learning_rate?" in result.stderr
    assert "Traceback" not in result.output


def test_typo_with_equals_sign(runner):
    result = runner.invoke(cli, ["config", "--env=CartPole-v1", "--gama=0.9"])
    assert result.exit_code == 2
    assert "did you mean --gamma?" in result.stderr


def test_bad_value_names_the_accepted_ones(runner):
    result = runner.invoke(cli, ["train", "--env", "CartPole-v1", "--device", "tpu"])
    assert result.exit_code == 2
    assert "'tpu'" in result.stderr and "gpu, cpu, auto" in result.stderr
    assert "Traceback" not in result.output


def test_bad_number_names_the_type(runner):
    result = runner.invoke(cli, ["config", "--env", "CartPole-v1", "--gamma", "high"])
    assert result.exit_code == 2
    assert "gamma" in result.stderr and "float" in result.stderr


def test_unknown_env_lists_the_closest_names(runner):
    result = runner.invoke(cli, ["train", "--env", "CartPol-v1"])
    assert result.exit_code == 2
    assert "CartPol-v1" in result.stderr and "'CartPole-v1'" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_env_module_is_a_usage_error(runner):
    result = runner.invoke(cli, ["config", "--env-module", "no_such_module_xyz", "--env", "x"])
    assert result.exit_code == 2
    assert "no_such_module_xyz" in result.stderr


def test_cross_parameter_rule_names_the_fix(runner):
    result = runner.invoke(cli, ["config", "--num_envs_per_worker", "3", "--worker_num_splits", "2"])
    assert result.exit_code == 2
    assert "num_envs_per_worker" in result.stderr and "worker_num_splits" in result.stderr


def test_enjoy_of_unknown_experiment_suggests_trained_ones(runner, tmp_path):
    (tmp_path / "cartpole").mkdir()
    (tmp_path / "cartpole" / "config.json").write_text('{"env": "CartPole-v1"}', encoding="utf-8")
    result = runner.invoke(cli, ["enjoy", "--experiment", "cartpol", "--train_dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no trained experiment 'cartpol'" in result.stderr and "did you mean cartpole?" in result.stderr


def test_enjoy_needs_an_experiment(runner):
    result = runner.invoke(cli, ["enjoy"])
    assert result.exit_code == 2
    assert "--experiment is required" in result.stderr


def test_unknown_command_is_a_usage_error(runner):
    result = runner.invoke(cli, ["trian"])
    assert result.exit_code == 2
    assert "train" in result.stderr


def test_errors_in_a_real_process_are_one_line(tmp_path, sf_cli_process):
    proc = sf_cli_process(["train", "--env", "CartPole-v1", "--learning_rat=3e-4"], cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "Error: unknown parameter --learning_rat; did you mean --learning_rate?"
    assert proc.stdout == ""


def test_debug_prints_the_traceback(tmp_path, sf_cli_process):
    proc = sf_cli_process(["--debug", "config", "--env", "CartPol-v1"], cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" in proc.stderr
    assert "EnvNotFoundError" in proc.stderr
    proc = sf_cli_process(["config", "--env", "CartPol-v1", "--debug"], cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" in proc.stderr
