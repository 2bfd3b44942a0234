"""An env declared by sf-examples' ``sf.envs`` entry point: found by name in a fresh process, trained and evaluated
by ``sf-cli`` with no script and no ``--env-module``."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sf_examples.args import parse_args
from sf_examples.entry_point import corridor


def _sf_cli(*args, cwd):
    script = Path(sys.executable).with_name("sf-cli")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "sf_cli"]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=500, check=False)


def test_a_fresh_process_finds_the_env_through_the_entry_point_without_importing_it():
    code = (
        "import sys; from sf_registry import env_spec; spec = env_spec('sf_corridor'); "
        "print(spec.source, spec.origin, spec.is_lazy, 'sf_examples.entry_point.corridor' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["entry", "point", "sf-examples", "True", "False"]


def test_sf_cli_envs_lists_it(tmp_path):
    done = _sf_cli("envs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("sf_corridor"))
    assert "entry point" in line and "sf-examples" in line


def test_loading_the_entry_point_applies_the_envs_default_overrides():
    # In a fresh process: the module is imported by parse_args itself, through the entry point.
    code = (
        "from sf_examples.args import parse_args; cfg = parse_args(['--env=sf_corridor']); "
        "print(cfg.serial_mode, cfg.use_rnn, cfg.train_for_env_steps, cfg.source_of('train_for_env_steps'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "30000", "env"]
    assert parse_args(["--env=sf_corridor", "--use_rnn=True"]).use_rnn  # the command line still wins


def test_sf_cli_applies_the_entry_point_envs_default_overrides(tmp_path):
    done = _sf_cli("config", "--env", "sf_corridor", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    resolved = json.loads(done.stdout)
    assert resolved["serial_mode"]["value"] is True
    assert resolved["serial_mode"]["source"] == "env"


@pytest.mark.slow
def test_sf_cli_trains_and_enjoys_it_with_no_script(tmp_path):
    """The env's own defaults (serial, short budget) reach sf-cli with no script and no settings on the line."""
    names = ["--env", "sf_corridor", "--experiment", "corridor", "--train_dir", str(tmp_path / "train_dir")]
    done = _sf_cli("train", *names, "--seed=1", "--progress=none", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (tmp_path / "train_dir" / "corridor" / "config.json").is_file()

    done = _sf_cli("enjoy", *names, "--no_render", "--max_num_episodes=10", "--eval_deterministic=True", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    average = float(re.search(r"Average reward over 10 episodes: (-?[\d.]+)", done.stdout + done.stderr).group(1))
    best = 1.0 - 0.01 * (corridor.CELLS - 1)  # straight to the end
    assert average == pytest.approx(best, abs=1e-6)
