"""``sf-cli hub push|pull`` and ``sf-cli enjoy --push_to_hub`` as real processes, with the real ``huggingface_hub``
client against the loopback stand-in of the Hub (``tests/runtime/hub_standin.py``, pointed at with ``HF_ENDPOINT``).

One experiment is trained with ``sf-cli train``, pushed without evaluation, pulled into a fresh train_dir, evaluated
and resumed there with ``sf-cli enjoy`` and ``sf-cli train``; then evaluated and pushed in one go with ``enjoy``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip(
    "huggingface_hub", reason="the huggingface extra is not installed (pip install 'sf-cli[huggingface]')"
)


def _standin_module():
    if "hub_standin" not in sys.modules:
        path = Path(__file__).parents[1] / "runtime" / "hub_standin.py"
        spec = importlib.util.spec_from_file_location("hub_standin", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["hub_standin"] = module
        spec.loader.exec_module(module)
    return sys.modules["hub_standin"]


@pytest.fixture
def hub():
    standin = _standin_module().HubStandIn()
    yield standin
    standin.stop()
    assert standin.unhandled == [], f"requests the stand-in could not answer: {standin.unhandled}"


@pytest.fixture
def hub_cli(hub, tmp_path, sf_cli_process):
    """Runs sf-cli with the client pointed at the stand-in: ``hub_cli(args, token="...")``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("HF_") and k != "HUGGING_FACE_HUB_TOKEN"}

    def run(args: list[str], token: str | None = "hf_test_token"):
        env = {
            **base,
            "HF_ENDPOINT": hub.url,
            "HF_HOME": str(tmp_path / "hf_home"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }
        if token:
            env["HF_TOKEN"] = token
        env.update({k: "" for k in os.environ if k not in env})  # the parent's own HF_* settings are blanked
        return sf_cli_process(args, tmp_path, env=env)

    return run


def _ok(proc) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.mark.slow  # five sf-cli runs, two of them training: over a minute on a loaded 2-core machine
def test_push_pull_then_evaluate_and_resume_the_pulled_experiment(hub, hub_cli, tmp_path, fast_train_args):
    first = tmp_path / "first"
    _ok(
        hub_cli(
            [
                "train",
                "--experiment",
                "balance",
                "--train_dir",
                str(first),
                "--train_for_env_steps=2000",
                *fast_train_args,
            ]
        )
    )

    out = _ok(
        hub_cli(
            [
                "hub",
                "push",
                "--experiment",
                "balance",
                "--train_dir",
                str(first),
                "--hf_repository",
                "sf-user/balance-appo",
            ]
        )
    )
    assert f"Uploaded {first / 'balance'} to {hub.url}/sf-user/balance-appo" in out
    files = hub.repos["sf-user/balance-appo"].files
    assert {"config.json", "README.md", "sf_log.txt"} <= set(files)
    assert any(f.startswith("checkpoint_p0/") and f.endswith(".pth") for f in files)
    card = files["README.md"].decode()
    assert "Not evaluated when it was uploaded" in card
    assert "sf-cli hub pull --hf_repository sf-user/balance-appo --train_dir ./train_dir" in card
    assert "sf-cli enjoy --experiment balance-appo --train_dir ./train_dir" in card

    fresh = tmp_path / "fresh"
    out = _ok(hub_cli(["hub", "pull", "--hf_repository", "sf-user/balance-appo", "--train_dir", str(fresh)]))
    pulled = fresh / "balance-appo"
    assert f"Downloaded sf-user/balance-appo to {pulled}" in out
    assert f"sf-cli enjoy --experiment balance-appo --train_dir {fresh}" in out
    assert f"sf-cli train --env CartPole-v1 --experiment balance-appo --train_dir {fresh}" in out
    for name, content in files.items():
        assert (pulled / name).read_bytes() == content, name

    out = _ok(
        hub_cli(
            [
                "enjoy",
                "--experiment",
                "balance-appo",
                "--train_dir",
                str(fresh),
                "--max_num_episodes=2",
                "--no_render",
                "--device=cpu",
            ]
        )
    )
    assert "Average reward over 2 episodes" in out

    _ok(
        hub_cli(
            [
                "train",
                "--experiment",
                "balance-appo",
                "--train_dir",
                str(fresh),
                "--train_for_env_steps=3000",
                *fast_train_args,
            ]
        )
    )
    log_text = (pulled / "sf_log.txt").read_text()
    resumed = re.search(r"Policy 0: resumed from checkpoint at (\d+) env steps", log_text)
    assert resumed and int(resumed.group(1)) >= 2000, log_text[-3000:]
    assert json.loads((pulled / "config.json").read_text())["experiment"] == "balance-appo"

    # and: evaluate and publish in one go, with the card's mean +/- std of the evaluated episodes
    out = _ok(
        hub_cli(
            [
                "enjoy",
                "--experiment",
                "balance-appo",
                "--train_dir",
                str(fresh),
                "--max_num_episodes=3",
                "--no_render",
                "--device=cpu",
                "--push_to_hub",
                "--hf_repository",
                "sf-user/evaluated",
            ]
        )
    )
    assert f"to {hub.url}/sf-user/evaluated (mean reward" in out
    card = hub.repos["sf-user/evaluated"].files["README.md"].decode()
    mean, std = re.search(r"mean reward (\S+) \+/- (\S+) over 3 episodes", out).groups()
    assert f"value: {mean} +/- {std}" in card
    assert f"Mean reward over 3 evaluated episodes: **{mean} ± {std}**" in card


def test_hub_errors_name_the_bad_value_and_what_to_do(hub, hub_cli, runner, tmp_path):
    from sf_cli import cli

    # an experiment as far as the checks go: its config.json
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "config.json").write_text('{"env": "CartPole-v1", "algo": "APPO"}', encoding="utf-8")

    # bad input: exit 2, before the client is used
    result = runner.invoke(cli, ["hub", "push", "--experiment", "tiny", "--hf_repository", "not-a-repo"])
    assert result.exit_code == 2
    assert "hf_repository='not-a-repo' is not a Hugging Face Hub repository: expected <user>/<name>" in result.stderr

    result = runner.invoke(
        cli, ["hub", "push", "--experiment", "nothing", "--train_dir", str(tmp_path), "--hf_repository", "u/x"]
    )
    assert result.exit_code == 2
    assert "no trained experiment 'nothing'" in result.stderr and "experiments there: tiny" in result.stderr

    result = runner.invoke(cli, ["hub", "pull", "--hf_repository", "sf-user/tiny", "--train_dir", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'tiny'} already exists and is not empty: choose another --experiment" in result.stderr

    result = runner.invoke(cli, ["hub", "pull", "--hf_repository", "u/x", "--experiment", "a/b"])
    assert result.exit_code == 2
    assert "experiment='a/b' is not a folder name" in result.stderr

    # a hub flag without --push_to_hub is refused before evaluating
    enjoy = ["enjoy", "--experiment", "tiny", "--train_dir", str(tmp_path), "--no_render", "--max_num_episodes=1"]
    result = runner.invoke(cli, [*enjoy, "--hf_repository", "sf-user/tiny"])
    assert result.exit_code == 1
    assert "--hf_repository is used only with --push_to_hub" in result.output
    assert "Average reward" not in result.output

    # the client's answers: no such repository (exit 1), no token to upload with (exit 1)
    proc = hub_cli(["hub", "pull", "--hf_repository", "sf-user/missing", "--train_dir", str(tmp_path / "td")])
    assert proc.returncode == 1
    assert f"cannot download sf-user/missing from {hub.url}" in proc.stderr

    proc = hub_cli(
        ["hub", "push", "--experiment", "tiny", "--train_dir", str(tmp_path), "--hf_repository", "u/x"], token=None
    )
    assert proc.returncode == 1
    assert "needs a Hugging Face token with write access: run `hf auth login`, or set HF_TOKEN" in proc.stderr
    assert hub.repos == {}
