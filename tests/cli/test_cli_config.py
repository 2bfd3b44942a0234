"""``sf-cli config``: resolution through sf-config and the registry hooks, with the provenance of every value."""

from __future__ import annotations

import json

from sf_cli import cli
from sf_config import PARAMETERS


def _config_json(runner, args):
    result = runner.invoke(cli, ["config", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_each_layer_is_named(runner, env_module, tmp_path):
    config_file = tmp_path / "params.toml"
    config_file.write_text("learning_rate = 0.0007\n[model]\nencoder_mlp_layers = [64, 64]\n", encoding="utf-8")
    data = _config_json(
        runner,
        [
            "--env-module",
            str(env_module),
            "--env",
            "cli_test_env",
            "--config",
            str(config_file),
            "--rollout=16",
            "--recurrence",
            "16",
            "--train_dir",
            str(tmp_path / "td"),
        ],
    )
    assert data["value_loss_coeff"] == {
        "value": PARAMETERS["value_loss_coeff"].default,
        "source": "default",
        "group": "loss",
    }
    assert data["gamma"]["value"] == 0.95 and data["gamma"]["source"] == "env"
    assert data["learning_rate"]["value"] == 0.0007 and data["learning_rate"]["source"] == "file"
    assert data["encoder_mlp_layers"]["value"] == [64, 64] and data["encoder_mlp_layers"]["source"] == "file"
    assert data["rollout"]["value"] == 16 and data["rollout"]["source"] == "cli"
    # the env's own argument, with the default its override hook set
    assert data["cli_test_arg"] == {"value": "from_env", "source": "env", "group": "env"}


def test_command_line_beats_file_and_env(runner, env_module, tmp_path):
    config_file = tmp_path / "params.json"
    config_file.write_text(json.dumps({"gamma": 0.5, "learning_rate": 0.001}), encoding="utf-8")
    data = _config_json(
        runner,
        [
            f"--env-module={env_module}",
            "--env=cli_test_env",
            f"--config={config_file}",
            "--learning_rate=3e-4",
            "--cli_test_arg",
            "given",
        ],
    )
    assert (data["gamma"]["value"], data["gamma"]["source"]) == (0.5, "file")
    assert (data["learning_rate"]["value"], data["learning_rate"]["source"]) == (3e-4, "cli")
    assert (data["cli_test_arg"]["value"], data["cli_test_arg"]["source"]) == ("given", "cli")


def test_changed_lists_only_what_differs_from_defaults(runner):
    result = runner.invoke(cli, ["config", "--env", "Acrobot-v1", "--changed", "--learning_rate", "3e-4"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "=" in line]
    names = {line.split("=")[0].strip() for line in lines}
    assert {"env", "experiment", "learning_rate"} <= names
    assert "gamma" not in names and "batch_size" not in names
    assert any(line.startswith("learning_rate = 0.0003") and line.endswith("# cli") for line in lines)


def test_text_output_groups_values_by_schema_group(runner):
    result = runner.invoke(cli, ["config", "--env", "CartPole-v1"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "[optimization]" in out and "[model]" in out
    assert out.index("[optimization]") < out.index("learning_rate = ") < out.index("[model]")
    assert 'algo = "APPO"' in out


def test_default_env_and_experiment(runner):
    data = _config_json(runner, [])
    assert data["env"]["value"] == "CartPole-v1"
    assert data["experiment"]["value"] == "CartPole-v1"
    # sf-cli's defaults for its default env: a finite budget and settings sized for CartPole
    assert (data["train_for_env_steps"]["value"], data["train_for_env_steps"]["source"]) == (300_000, "env")
    assert (data["use_rnn"]["value"], data["use_rnn"]["source"]) == (False, "env")


def test_default_env_defaults_yield_to_the_command_line(runner):
    data = _config_json(runner, ["--env", "CartPole-v1", "--train_for_env_steps", "1000", "--use_rnn", "True"])
    assert (data["train_for_env_steps"]["value"], data["train_for_env_steps"]["source"]) == (1000, "cli")
    assert (data["use_rnn"]["value"], data["use_rnn"]["source"]) == (True, "cli")
    assert data["recurrence"]["value"] == data["rollout"]["value"]  # automatic recurrence follows the RNN


def test_experiment_name_from_env_is_a_folder_name(runner):
    data = _config_json(runner, ["--env", "phys2d/CartPole-v1"])
    assert data["experiment"]["value"] == "phys2d_CartPole-v1"


def test_real_process_shows_provenance(env_module, tmp_path, sf_cli_process):
    proc = sf_cli_process(
        ["config", "--env-module", str(env_module), "--env", "cli_test_env", "--gamma=0.9", "--json"], cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["gamma"]["value"], data["gamma"]["source"]) == (0.9, "cli")
    assert data["cli_test_arg"]["source"] == "env"
