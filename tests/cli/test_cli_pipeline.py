"""The user's path through sf-cli, as real processes and through Click's runner: train (a short budget) -> enjoy ->
plot (a non-empty PNG) -> config (the saved layer of the trained experiment)."""

from __future__ import annotations

import json
import shutil

import pytest

from sf_cli import cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, sf_cli_process, fast_train_args):
    """One experiment trained by ``sf-cli train`` in a real process: (cwd, train_dir, completed process)."""
    cwd = tmp_path_factory.mktemp("pipeline")
    train_dir = cwd / "td"
    args = ["train", "--env", "CartPole-v1", "--experiment", "pipe", f"--train_dir={train_dir}"]
    args += ["--train_for_env_steps", "2048", "--progress-interval", "0.5", *fast_train_args]  # stderr is a pipe
    proc = sf_cli_process(args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return cwd, train_dir, proc


def test_train_writes_the_experiment_and_tells_what_next(trained):
    _cwd, train_dir, proc = trained
    experiment = train_dir / "pipe"
    assert json.loads((experiment / "config.json").read_text())["train_for_env_steps"] == 2048
    assert list((experiment / "checkpoint_p0").glob("*.pth"))
    assert "sf-cli enjoy --experiment pipe" in proc.stdout and "sf-cli plot pipe" in proc.stdout


def test_train_reports_progress_as_plain_lines_when_not_a_terminal(trained):
    _cwd, _train_dir, proc = trained
    lines = [line for line in proc.stderr.splitlines() if line.startswith("progress:")]
    assert len(lines) >= 2
    assert "\r" not in proc.stderr and "\033[" not in proc.stderr
    last = lines[-1]
    assert last.startswith("progress: 100.0% |")
    assert "/2.0k env steps" in last and "FPS" in last and "reward " in last and "ETA 0:00" in last


def test_enjoy_in_a_real_process(trained, sf_cli_process):
    cwd, train_dir, _ = trained
    proc = sf_cli_process(
        ["enjoy", "--experiment", "pipe", "--train_dir", str(train_dir), "--max_num_episodes", "2", "--no_render"],
        cwd=cwd,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Average reward over 2 episodes" in proc.stdout
    assert "Episode 2 finished" in proc.stderr


def test_enjoy_records_a_video_with_deterministic_actions(trained, runner):
    _cwd, train_dir, _ = trained
    result = runner.invoke(
        cli,
        [
            "enjoy",
            "--experiment=pipe",
            f"--train_dir={train_dir}",
            "--max_num_episodes=1",
            "--eval_deterministic",
            "--save_video",
            "--video_frames=30",
            "--video_name=check.mp4",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    video = train_dir / "pipe" / "check.mp4"
    assert video.is_file() and video.stat().st_size > 0
    assert f"video: {video}" in result.stdout


def test_plot_writes_a_png(trained, sf_cli_process):
    cwd, train_dir, _ = trained
    proc = sf_cli_process(["plot", "pipe", "--train_dir", str(train_dir)], cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    png = train_dir / "pipe" / "plot.png"
    assert proc.stdout.strip() == str(png)
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000


def test_plot_overlays_experiments_and_named_summaries(trained, runner, tmp_path):
    _cwd, train_dir, _ = trained
    shutil.copytree(train_dir / "pipe", tmp_path / "pipe_copy")
    out = tmp_path / "compare.png"
    result = runner.invoke(
        cli,
        [
            "plot",
            "pipe",
            str(tmp_path / "pipe_copy"),
            "--train_dir",
            str(train_dir),
            "-s",
            "reward",
            "-s",
            "fps",
            "-o",
            str(out),
            "--title",
            "two runs",
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_unknown_summary_suggests_names(trained, runner):
    _cwd, train_dir, _ = trained
    result = runner.invoke(cli, ["plot", "pipe", "--train_dir", str(train_dir), "-s", "rewrd"])
    assert result.exit_code == 2
    assert "has no summary 'rewrd'; did you mean reward" in result.stderr
    assert "episode/reward" in result.stderr


def test_plot_unknown_experiment_suggests_names(trained, runner):
    _cwd, train_dir, _ = trained
    result = runner.invoke(cli, ["plot", "pip", "--train_dir", str(train_dir)])
    assert result.exit_code == 2
    assert "no experiment 'pip'" in result.stderr and "did you mean pipe?" in result.stderr


def test_config_of_a_trained_experiment_shows_the_saved_layer(trained, runner):
    _cwd, train_dir, _ = trained
    result = runner.invoke(
        cli, ["config", "--json", "--experiment", "pipe", "--train_dir", str(train_dir), "--gamma", "0.9"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["gamma"]["value"], data["gamma"]["source"]) == (0.9, "cli")
    assert (data["train_for_env_steps"]["value"], data["train_for_env_steps"]["source"]) == (2048, "saved")
    assert (data["batch_size"]["value"], data["batch_size"]["source"]) == (256, "saved")
    assert data["value_loss_coeff"]["source"] == "saved"  # config.json holds every value


def test_plot_without_matplotlib_says_how_to_install_it(tmp_path, sf_cli_process):
    blocker = tmp_path / "no_matplotlib" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError(\"No module named 'matplotlib'\")\n", encoding="utf-8")
    proc = sf_cli_process(["plot", "anything"], cwd=tmp_path, env={"PYTHONPATH": str(blocker.parent)})
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "Error: sf-cli plot needs matplotlib, an optional extra: pip install 'sf-cli[plot]' (or pip install matplotlib)"
    )
