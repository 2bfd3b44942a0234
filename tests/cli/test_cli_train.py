"""``sf-cli train`` beyond the main path: in-process through Click's runner with the progress bar, a registered env
from --env-module (remembered for enjoy), Ctrl-C (exit code 2), and ``sf-cli bench``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from sf_cli import cli


@pytest.mark.slow  # two short runs in one test: about a minute on a loaded 2-core machine
def test_train_registered_env_in_process_with_bar_then_enjoy_without_module(
    runner, env_module, tmp_path, fast_train_args, sf_cli_process
):
    train_dir = tmp_path / "td"
    result = runner.invoke(
        cli,
        [
            "train",
            "--env-module",
            str(env_module),
            "--env=cli_test_env",
            f"--train_dir={train_dir}",
            "--train_for_env_steps=512",
            "--cli_test_arg=given",
            "--progress=bar",
            *fast_train_args,
        ],
    )
    assert result.exit_code == 0, result.output
    # the bar redraws one line in place and ends with a newline; it shows percent, FPS, reward and ETA
    assert "\r\033[K[" in result.stderr and "100.0%" in result.stderr and result.stderr.endswith("\n")
    assert " FPS | reward " in result.stderr and "ETA " in result.stderr
    saved = json.loads((train_dir / "cli_test_env" / "config.json").read_text())
    assert saved["cli_test_arg"] == "given"  # the env's own argument reached the cfg
    assert saved["gamma"] == 0.95  # and its default override

    # enjoy finds the env module through the experiment folder; the env's argument comes back from config.json
    proc = sf_cli_process(
        ["enjoy", "--experiment", "cli_test_env", "--train_dir", str(train_dir), "--max_num_episodes=1", "--no_render"],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Average reward over 1 episodes" in proc.stdout


def test_ctrl_c_stops_with_exit_code_2_after_a_checkpoint(tmp_path, fast_train_args):
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    args = [sys.executable, "-m", "sf_cli", "train", "--experiment=interrupted", "--train_for_env_steps=100000000"]
    args += ["--progress=lines", "--progress-interval=0.2", *fast_train_args]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        seen = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("progress:") and "| 0/" not in line:
                break  # training is under way
        else:
            raise AssertionError("no progress line: " + "".join(seen))
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, "".join(seen) + err
    assert "Interrupted" in err and "Traceback" not in err
    assert list((tmp_path / "train_dir" / "interrupted" / "checkpoint_p0").glob("*.pth"))


def test_bench_reports_env_rate_and_training_fps(tmp_path, fast_train_args, sf_cli_process):
    proc = sf_cli_process(
        ["bench", "--env", "CartPole-v1", "--env-seconds=0.5", "--seconds=3", *fast_train_args], cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "env: CartPole-v1"
    assert lines[1].startswith("env step rate (1 env, random actions, no sf wrappers): ")
    assert lines[2].startswith("training FPS (serial, 1x frameskip): ") and lines[2].endswith(" env steps/s")
    rate = float(lines[2].split(": ")[1].split()[0].replace(",", ""))
    assert rate > 0
    assert not (tmp_path / "train_dir").exists()  # the run went to a temporary folder


def test_progress_bar_on_a_terminal(tmp_path, fast_train_args):
    import pty
    import threading

    controller, terminal = pty.openpty()
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    args = [sys.executable, "-m", "sf_cli", "train", "--experiment=tty", "--train_for_env_steps=512", *fast_train_args]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stderr=terminal, stdout=subprocess.PIPE)
    os.close(terminal)
    chunks: list[bytes] = []

    def drain() -> None:  # the terminal's buffer is small: read while the process writes
        while True:
            try:
                data = os.read(controller, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    os.close(controller)
    shown = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, shown
    assert "\r\x1b[K[" in shown and "100.0%" in shown  # redrawn in place, up to the end of the budget
    assert "progress:" not in shown


def test_bench_env_rate_only_in_process(runner, env_module):
    result = runner.invoke(
        cli, ["bench", "--env-module", str(env_module), "--env", "cli_test_env", "--env-seconds=0.3", "--skip-training"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "env: cli_test_env"
    rate = float(result.stdout.splitlines()[1].rsplit(": ", 1)[1].split()[0].replace(",", ""))
    assert rate > 0
