"""The sweep acceptance test: 2 x 2 tiny CartPole trainings on the processes backend, one failing; a re-run does only
the failed one. And a run stopped by the launcher resumes from its checkpoint when the sweep runs again."""

from __future__ import annotations

import io
import json
import os
import signal
import textwrap
import threading
import time

from sf_runtime import Experiment, ParamGrid, RunDescription, run_sweep
from sf_runtime.launcher import read_status

# A training script as the sweep's command: sf's command line, plus an env that fails on purpose for seed 2 while
# SWEEP_TEST_FAIL=1 (an env that raises when it is made).
TRAIN_SCRIPT = textwrap.dedent(
    """
    import os
    import sys

    import gymnasium

    from sf_config import parse_full_cfg, parse_sf_args
    from sf_registry import register_env
    from sf_runtime import run_rl


    def make_flaky_cartpole(full_env_name, cfg=None, env_config=None, render_mode=None):
        if os.environ.get("SWEEP_TEST_FAIL") == "1" and cfg is not None and cfg.seed == 2:
            raise RuntimeError("flaky_cartpole fails on purpose for seed 2")
        return gymnasium.make("CartPole-v1", render_mode=render_mode)


    register_env("flaky_cartpole", make_flaky_cartpole)

    if __name__ == "__main__":
        parser, _ = parse_sf_args()
        sys.exit(run_rl(parse_full_cfg(parser)))
    """
)

# Seconds of training each: serial, small model and batch, a few thousand env steps.
FAST = (
    "--serial_mode=True --device=cpu --use_rnn=False --encoder_mlp_layers 32 --num_workers=1 --num_envs_per_worker=4 "
    "--rollout=16 --batch_size=256 --save_every_sec=2"
)


def _sweep(tmp_path, extra: str = "--train_for_env_steps=3000", name: str = "cartpole_sweep") -> RunDescription:
    script = tmp_path / "train_sweep_cartpole.py"
    script.write_text(TRAIN_SCRIPT)
    grid = ParamGrid([("env", ["CartPole-v1", "flaky_cartpole"]), ("seed", [1, 2])])
    return RunDescription(
        name,
        [Experiment("cp", f"python {script} {FAST} {extra}", grid.generate_params(randomize=False))],
    )


def test_sweep_of_four_cartpole_runs_one_failing_and_a_rerun_that_does_only_it(tmp_path, monkeypatch):
    description = _sweep(tmp_path)
    monkeypatch.setenv("SWEEP_TEST_FAIL", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = io.StringIO()
    result = run_sweep(description, tmp_path / "train_dir", max_parallel=2, pause_between=0, stream=out)
    text = out.getvalue()

    assert result.exit_code == 1, text
    failing = "cp_env_flaky_cartpole_seed_2"
    assert [r.name for r in result.failed] == [failing]
    assert sorted(r.name for r in result.done) == [
        "cp_env_CartPole-v1_seed_1",
        "cp_env_CartPole-v1_seed_2",
        "cp_env_flaky_cartpole_seed_1",
    ]
    sweep_dir = tmp_path / "train_dir" / "cartpole_sweep"
    for record in result.done:  # each in its own experiment directory, trained to the end
        assert record.spec.run_dir == sweep_dir / record.name
        config = json.loads((record.spec.run_dir / "config.json").read_text())
        assert config["experiment"] == record.name and config["seed"] == record.spec.params["seed"]
        assert list((record.spec.run_dir / "checkpoint_p0").glob("checkpoint_*"))
        assert read_status(record.spec.run_dir)["state"] == "done"
    failed = result.failed[0]
    assert "flaky_cartpole fails on purpose for seed 2" in failed.log_path.read_text()
    assert read_status(failed.spec.run_dir)["state"] == "failed" and failed.exit_code not in (0, None)
    assert f"FAILED   {failing}: exit {failed.exit_code}" in text
    assert f"[sweep] FAILED {failing} (exit {failed.exit_code}); log {failed.log_path}:" in text
    assert "fails on purpose for seed 2" in text.split(f"[sweep] FAILED {failing} (exit", 1)[1]  # the log's tail
    assert "3 finished, 1 failed" in text
    stamps = {
        r.name: (read_status(r.spec.run_dir)["finished_at"], (r.spec.run_dir / "config.json").stat().st_mtime)
        for r in result.done
    }

    monkeypatch.delenv("SWEEP_TEST_FAIL")
    out = io.StringIO()
    again = run_sweep(description, tmp_path / "train_dir", max_parallel=2, pause_between=0, stream=out)
    text = out.getvalue()
    assert again.exit_code == 0, text
    assert "4 runs in" in text and "3 finished earlier, 1 to run" in text
    assert text.count("[sweep] skipped  ") == 3 and text.count("[sweep] started  ") == 1
    assert f"[sweep] started  {failing}" in text and f"[sweep] finished {failing}: exit 0" in text
    assert [r.name for r in again.done] == [failing] and len(again.skipped) == 3
    assert {
        r.name: (read_status(r.spec.run_dir)["finished_at"], (r.spec.run_dir / "config.json").stat().st_mtime)
        for r in again.skipped
    } == stamps  # untouched
    status = read_status(failed.spec.run_dir)
    assert status["state"] == "done" and status["exit_code"] == 0 and status["attempt"] == 2


def test_a_run_stopped_by_the_launcher_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    script = tmp_path / "train_sweep_cartpole.py"
    script.write_text(TRAIN_SCRIPT)
    long_run = RunDescription(
        "resume", [Experiment("cp", f"python {script} {FAST} --env=CartPole-v1 --train_for_env_steps=10000000")]
    )
    run_dir = long_run.generate_runs(tmp_path)[0].run_dir

    def stop_after_a_checkpoint():
        deadline = time.monotonic() + 240
        while not list((run_dir / "checkpoint_p0").glob("checkpoint_*")) and time.monotonic() < deadline:
            time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)  # as Ctrl-C would

    thread = threading.Thread(target=stop_after_a_checkpoint, daemon=True)
    thread.start()
    first = run_sweep(long_run, tmp_path, stream=io.StringIO(), stop_timeout=60)
    thread.join()
    assert first.interrupted and first.records[0].state == "interrupted"
    assert first.records[0].exit_code == 2  # sf saved and exited as on Ctrl-C
    steps = json.loads((run_dir / "config.json").read_text())["train_for_env_steps"]
    assert steps == 10_000_000

    short = RunDescription(
        "resume", [Experiment("cp", f"python {script} {FAST} --env=CartPole-v1 --train_for_env_steps=2000")]
    )
    out = io.StringIO()
    second = run_sweep(short, tmp_path, stream=out)
    assert second.exit_code == 0, out.getvalue()
    assert "0 finished earlier, 1 to run" in out.getvalue()
    assert "resumed from checkpoint at" in (run_dir / "sweep_log.txt").read_text()
    assert read_status(run_dir)["attempt"] == 2
