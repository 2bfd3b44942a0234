"""``--help`` (parameters grouped as the schema groups them), ``--version`` and Click's shell completion."""

from __future__ import annotations

import pytest

from sf_cli import __version__, cli
from sf_config import GROUPS, PARAMETERS, parameters_for


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"sf-cli {__version__}"


def test_top_level_help_lists_the_commands(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("train", "enjoy", "envs", "config", "plot", "bench"):
        assert f"  {command} " in result.stdout


@pytest.mark.parametrize("command", ["train", "config", "bench"])
def test_help_lists_every_parameter_under_its_group(runner, command):
    result = runner.invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    out = result.stdout
    titles = [(g, t) for g, t in GROUPS.items() if any(p.group == g for p in parameters_for(False))]
    assert f"{GROUPS['evaluation']}:" not in out
    bounds = [out.index(f"\n{title}:\n") for _, title in titles] + [len(out)]
    for (group, _), start, end in zip(titles, bounds, bounds[1:], strict=False):
        section = out[start:end]
        for param in (p for p in parameters_for(False) if p.group == group):
            assert f"\n  --{param.name} " in section, (param.name, group)
    assert "--max_num_episodes" not in out  # evaluation parameters belong to enjoy


def test_enjoy_help_has_the_evaluation_parameters(runner):
    result = runner.invoke(cli, ["enjoy", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for name in ("max_num_episodes", "save_video", "eval_deterministic", "no_render"):
        assert f"--{name} " in result.stdout
    assert GROUPS["evaluation"] in result.stdout


def test_help_shows_allowed_values_and_defaults(runner):
    result = runner.invoke(cli, ["train", "--help"], terminal_width=200)
    assert "--device [gpu|cpu|auto]" in result.stdout
    assert f"[default: {PARAMETERS['learning_rate'].default}]" in result.stdout


def test_every_command_has_help(runner):
    for command in cli.commands:
        result = runner.invoke(cli, [command, "-h"])
        assert result.exit_code == 0, command
        assert result.stdout.startswith(f"Usage: sf-cli {command}")


def test_bash_completion_script(tmp_path, sf_cli_process):
    proc = sf_cli_process([], cwd=tmp_path, env={"_SF_CLI_COMPLETE": "bash_source"})
    assert proc.returncode == 0
    assert "_sf_cli_completion" in proc.stdout and "complete " in proc.stdout


def test_completion_of_command_names(tmp_path, sf_cli_process):
    proc = sf_cli_process(
        [], cwd=tmp_path, env={"_SF_CLI_COMPLETE": "bash_complete", "COMP_WORDS": "sf-cli en", "COMP_CWORD": "1"}
    )
    assert proc.returncode == 0
    words = [line.split(",", 1)[1] for line in proc.stdout.splitlines()]
    assert set(words) == {"enjoy", "envs"}


def test_help_with_an_env_lists_its_parameters_and_its_defaults(runner, env_module):
    args = ["train", "--env", "cli_test_env", "--env-module", str(env_module), "--help"]
    result = runner.invoke(cli, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.stdout
    section = out[out.index("Parameters of env cli_test_env") :]
    assert "--cli_test_arg STR" in section and "An argument of the test env. [default: from_env]" in section
    gamma = next(line for line in out.splitlines() if line.lstrip().startswith("--gamma "))
    assert "[default: 0.95 (env cli_test_env; schema: 0.99)]" in gamma
    plain = runner.invoke(cli, ["train", "--help"], terminal_width=200).stdout
    assert "--cli_test_arg" not in plain and "(env " not in plain


def test_help_with_an_unknown_env_still_shows_the_schema(runner):
    result = runner.invoke(cli, ["train", "--env", "no_such_env_xyz", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "(--env no_such_env_xyz: its parameters and defaults cannot be shown: unknown env" in result.stdout
    assert "--learning_rate FLOAT" in result.stdout
