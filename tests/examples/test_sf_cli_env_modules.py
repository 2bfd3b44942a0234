"""The examples' env modules work as ``sf-cli --env-module``: their envs and default overrides reach sf-cli."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sf_config import PARAMETERS


def _sf_cli_config(*args, cwd):
    script = Path(sys.executable).with_name("sf-cli")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "sf_cli"]
    done = subprocess.run([*command, "config", "--json", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("module", "extra", "env", "expected"),
    [
        (
            "sf_examples.atari.atari_env",
            "ale_py",
            "atari_pong",
            {"rollout": 128, "env_frameskip": 4, "obs_scale": 255.0},
        ),
        ("sf_examples.mujoco.mujoco_env", "mujoco", "mujoco_hopper", {"num_epochs": 10, "value_bootstrap": True}),
        ("sf_examples.custom_env.train_custom_env", None, "custom_env_name", {"custom_episode_length": 16}),
    ],
)
def test_env_module_defaults_reach_sf_cli(module, extra, env, expected, tmp_path):
    if extra is not None:
        pytest.importorskip(extra, reason=f"{extra} is not installed (an extra of sf-examples)")
    resolved = _sf_cli_config("--env-module", module, "--env", env, "--learning_rate=1e-4", cwd=tmp_path)
    for name, value in expected.items():
        assert resolved[name]["value"] == value, name
        if name in PARAMETERS:  # a schema parameter, set by the env's default overrides
            assert resolved[name]["source"] == "env", name
    assert resolved["learning_rate"] == {**resolved["learning_rate"], "value": 1e-4, "source": "cli"}
