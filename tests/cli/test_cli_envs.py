"""``sf-cli envs``: registered envs, entry-point envs (no script at all) and gymnasium ids, with their spaces."""

from __future__ import annotations

import json
import textwrap

import pytest

from sf_cli import cli


@pytest.fixture
def entry_point_site(tmp_path):
    """A folder (for PYTHONPATH) holding an installed distribution that declares an env in the ``sf.envs`` group."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sfcli_ep_envs.py").write_text(
        textwrap.dedent(
            """
            import gymnasium

            def make_ep_env(full_env_name, cfg=None, env_config=None, render_mode=None):
                return gymnasium.make("CartPole-v1", render_mode=render_mode)
            """
        ),
        encoding="utf-8",
    )
    dist_info = site / "sfcli_ep_envs-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: sfcli-ep-envs\nVersion: 0.1\n", encoding="utf-8")
    entry_points = "[sf.envs]\nep_cartpole = sfcli_ep_envs:make_ep_env\n"
    (dist_info / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    return site


def test_lists_gymnasium_ids(runner):
    result = runner.invoke(cli, ["envs", "--json"])
    assert result.exit_code == 0, result.output
    records = {r["name"]: r for r in json.loads(result.stdout)}
    assert records["CartPole-v1"]["source"] == "gymnasium"
    assert "cartpole" in records["CartPole-v1"]["origin"]


def test_registered_env_from_a_module(runner, env_module):
    result = runner.invoke(cli, ["envs", "--env-module", str(env_module), "--source", "registered"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    # Other tests of the same process may have registered envs too: look for this one among them.
    assert ["cli_test_env", "registered"] in [line.split()[:2] for line in lines]
    assert all(line.split()[1] == "registered" for line in lines if not line.startswith(" "))


def test_pattern_and_spaces(runner):
    result = runner.invoke(cli, ["envs", "CartPole-v*", "--spaces", "--source", "gymnasium"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0].startswith("CartPole-v0")
    assert "observation space: Box(" in out and "action space:      Discrete(2)" in out


def test_spaces_of_an_env_that_cannot_be_made_say_why(runner, env_module):
    result = runner.invoke(cli, ["envs", "phys2d/CartPole-v1", "--spaces", "--json"])
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.stdout)
    if "error" in record:  # jax is not installed here
        assert record["error"].startswith("cannot make it:")
    else:
        assert "observation_space" in record


def test_no_match(runner):
    result = runner.invoke(cli, ["envs", "no-such-env-anywhere"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "No env matches."


def test_entry_point_env_needs_no_script(entry_point_site, tmp_path, sf_cli_process):
    env = {"PYTHONPATH": str(entry_point_site)}
    proc = sf_cli_process(["envs", "--source", "entry point", "--spaces"], cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    # the line of ep_cartpole (installed packages, sf-examples among them, may declare envs that sort before it)
    first = next(line for line in proc.stdout.splitlines() if line.startswith("ep_cartpole")).split()
    assert first[0] == "ep_cartpole" and " ".join(first[1:3]) == "entry point" and first[3] == "sfcli-ep-envs"
    assert "Discrete(2)" in proc.stdout
    proc = sf_cli_process(["config", "--env", "ep_cartpole", "--json"], cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["experiment"]["value"] == "ep_cartpole"


def test_entry_point_env_trains(entry_point_site, tmp_path, sf_cli_process, fast_train_args):
    env = {"PYTHONPATH": str(entry_point_site)}
    proc = sf_cli_process(
        ["train", "--env", "ep_cartpole", "--train_for_env_steps=256", *fast_train_args], cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr
    saved = json.loads((tmp_path / "train_dir" / "ep_cartpole" / "config.json").read_text())
    assert saved["env"] == "ep_cartpole"
    assert list((tmp_path / "train_dir" / "ep_cartpole" / "checkpoint_p0").glob("*.pth"))
