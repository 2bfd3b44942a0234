"""Start, stop, interruption and resume of the parallel runner, and the cleanup after each."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
import torch

from sf_config import make_cfg
from sf_runtime import run_rl
from sf_runtime.storage import CheckpointManager

torch.set_num_threads(1)

SCHEMA_HEARTBEATS = ("heartbeat_interval", "heartbeat_reporting_interval")  # these runs are not about stuck processes


@pytest.fixture
def small(run_config):
    """conftest's run_config with 4 envs per worker, minibatches of 64 and the schema's heartbeats."""
    return run_config(num_envs_per_worker=4, batch_size=64, without=SCHEMA_HEARTBEATS)


@pytest.fixture
def small_cfg(tmp_path, small):
    """``small_cfg(experiment="exp", **overrides)``: the cfg of a small run in tmp_path."""

    def make(experiment="exp", **overrides):
        return make_cfg(**{**small, "experiment": experiment, "train_dir": str(tmp_path), **overrides})

    return make


def test_run_stops_saves_and_leaves_nothing_behind(small_cfg, leftovers, caplog):
    cfg = small_cfg(train_for_env_steps=20_000)

    with caplog.at_level(logging.INFO, logger="sf_runtime"):
        assert run_rl(cfg) == 0
    # the main process says when the first samples came: seconds into the run, and since its (pytest's) process started
    first = re.search(
        r"First samples arrived, ([\d.]+)s into the run \(([\d.]+)s after launch of its process\)", caplog.text
    )
    assert first is not None and 0 < float(first.group(1)) < float(first.group(2)), caplog.text

    state = CheckpointManager(cfg, 0).load()
    assert state is not None and state["env_steps"] >= 20_000
    assert state["policy_version"] > 0
    assert leftovers() == ([], set())


def test_the_learning_curve_starts_at_the_first_episodes_of_each_env(small_cfg, tmp_path):
    """Rollout workers report their envs' first episodes as they end (later ones once a second), so the first
    episode/reward point is the untrained policy's: one second of a fast run is thousands of steps of learning."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = small_cfg(experiment="curve", train_for_env_steps=30_000, learning_rate=3e-3)
    assert run_rl(cfg) == 0

    events = EventAccumulator(str(tmp_path / "curve" / ".summary" / "0"), size_guidance={"scalars": 0})
    events.Reload()
    first = events.Scalars("episode/reward")[0]
    assert first.value < 40, first  # CartPole's random policy averages about 22
    assert first.step <= 3_000, first  # a second of reports later it was over 10,000 on 2 cores


def test_resume_continues_from_the_checkpoint(small_cfg, leftovers):
    cfg = small_cfg(train_for_env_steps=10_000, async_rl=False)
    assert run_rl(cfg) == 0
    first = CheckpointManager(cfg, 0).load()

    cfg = small_cfg(train_for_env_steps=20_000, async_rl=False)
    assert run_rl(cfg) == 0
    second = CheckpointManager(cfg, 0).load()

    assert first["env_steps"] >= 10_000
    assert second["env_steps"] >= 20_000
    assert second["policy_version"] > first["policy_version"]
    assert leftovers() == ([], set())


def test_two_policies_with_two_inference_workers_each_train_side_by_side(small_cfg):
    cfg = small_cfg(num_policies=2, policy_workers_per_policy=2, train_for_env_steps=8_000)

    assert run_rl(cfg) == 0

    for pid in (0, 1):
        state = CheckpointManager(cfg, pid).load()
        assert state is not None and state["env_steps"] >= 8_000 and state["policy_version"] > 0


def test_resume_with_only_the_experiment_named_takes_every_policy_from_config_json(tmp_path, small_cfg, leftovers):
    cfg = small_cfg(num_policies=2, train_for_env_steps=4_000)
    assert run_rl(cfg) == 0
    first = [CheckpointManager(cfg, pid).load() for pid in (0, 1)]

    # num_policies=2, the env and the budget come from config.json; the run is resolved once, before anything is built
    resumed = make_cfg(["--experiment", "exp", "--train_dir", str(tmp_path), "--train_for_env_steps", "8000"])
    assert resumed.num_policies == 1 and resumed.env is None
    assert run_rl(resumed) == 0

    for pid in (0, 1):
        state = CheckpointManager(cfg, pid).load()
        assert state["env_steps"] >= 8_000 and state["policy_version"] > first[pid]["policy_version"]
    assert leftovers() == ([], set())


def start_training_script(tmp_path, experiment: str, small: dict) -> subprocess.Popen:
    """Run a training script of ``small`` in a session of its own and wait until it reports FPS (it is sampling)."""
    script = textwrap.dedent(
        f"""
        import sys
        from sf_config import make_cfg
        from sf_runtime import run_rl
        if __name__ == "__main__":
            cfg = make_cfg(**{small!r}, experiment={experiment!r}, train_dir={str(tmp_path)!r})
            sys.exit(run_rl(cfg))
        """
    )
    script_path = tmp_path / f"{experiment}.py"
    script_path.write_text(script)
    # A session of its own, so that Ctrl-C can be sent the way a terminal does: to the whole process group.
    proc = subprocess.Popen(
        [sys.executable, str(script_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    log_file = tmp_path / experiment / "sf_log.txt"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if log_file.is_file() and "Fps is" in log_file.read_text():
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[0]
    return proc


def test_ctrl_c_saves_stops_children_and_returns_2(tmp_path, small, small_cfg):
    proc = start_training_script(tmp_path, "interrupted", small)
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) >= 4  # 2 rollout workers, 1 inference worker, 1 learner (and the fork server)

    os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=120)

    assert proc.returncode == 2, output
    state = CheckpointManager(small_cfg(experiment="interrupted"), 0).load()
    assert state is not None and state["env_steps"] > 0
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
    assert not [name for name in os.listdir("/dev/shm") if name.startswith(f"sf_{proc.pid}_")]


def test_children_of_a_killed_main_process_exit_and_leave_no_shared_memory(tmp_path, small):
    proc = start_training_script(tmp_path, "killed", small)
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) >= 4

    proc.kill()  # SIGKILL: no cleanup code of the main process runs
    proc.communicate(timeout=30)

    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == []
    assert not [name for name in os.listdir("/dev/shm") if name.startswith(f"sf_{proc.pid}_")]
