"""The parallel runner's failure handling: a crashed or a stuck process is named in a clear error, nothing is left.

The envs below are created in the rollout worker processes; they are registered from this module imported by its
plain name (its directory is put on sys.path), so that the worker processes can import their factories.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import time
from pathlib import Path

import gymnasium as gym
import pytest
import torch

from sf_config import make_cfg
from sf_registry import register_env
from sf_runtime import run_rl
from sf_runtime.runners.parallel.failures import has_ended

torch.set_num_threads(1)

# over conftest's run_config (unseeded); each test names its env
FAST = dict(rollout=8, encoder_mlp_layers=[16], heartbeat_reporting_interval=4, train_for_seconds=120)


class _FailAfter(gym.Wrapper):
    """CartPole that crashes or hangs on its 40th step in rollout worker 1."""

    def __init__(self, env, mode: str, env_config):
        super().__init__(env)
        self.mode = mode
        self.armed = env_config is not None and env_config["worker_index"] == 1
        self.steps = 0

    def step(self, action):
        self.steps += 1
        if self.armed and self.steps == 40:
            if self.mode == "crash":
                raise RuntimeError("simulator crashed")
            time.sleep(3600)
        return self.env.step(action)


def make_crashing_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    return _FailAfter(gym.make("CartPole-v1", render_mode=render_mode), "crash", env_config)


def make_hanging_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    return _FailAfter(gym.make("CartPole-v1", render_mode=render_mode), "hang", env_config)


@pytest.fixture
def importable_envs(monkeypatch):
    """This module, imported by a name the worker processes can import too; its envs registered."""
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    module = importlib.import_module(Path(__file__).stem)
    register_env("parallel_crashing_env", module.make_crashing_env)
    register_env("parallel_hanging_env", module.make_hanging_env)
    return module


def test_crashed_worker_is_named_and_run_fails(tmp_path, run_config, importable_envs, caplog, leftovers):
    cfg = make_cfg(
        **run_config(FAST, without=["seed"], env="parallel_crashing_env"), experiment="crash", train_dir=str(tmp_path)
    )

    assert run_rl(cfg) == 1

    assert "rollout_worker 1" in caplog.text
    assert "raised RuntimeError in step in rollout_worker 1" in caplog.text  # an env exception: see test_faults_envs
    assert "simulator crashed" in caplog.text
    assert leftovers() == ([], set())


def test_stuck_worker_is_named_by_its_heartbeat(tmp_path, run_config, importable_envs, caplog, leftovers):
    cfg = make_cfg(
        **run_config(FAST, without=["seed"], env="parallel_hanging_env"), experiment="hang", train_dir=str(tmp_path)
    )
    start = time.monotonic()

    assert run_rl(cfg) == 1

    assert time.monotonic() - start < 100  # it did not wait for train_for_seconds
    assert "rollout_worker 1 (silent for" in caplog.text
    assert "heartbeat_reporting_interval=4" in caplog.text
    assert leftovers() == ([], set())


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_a_killed_child_is_seen_dead_before_the_fork_server_reports_its_exit():
    """A SIGKILLed worker is dead at once, but its exit code comes from the fork server, which a busy machine may
    not schedule for seconds; meanwhile the worker's heartbeat goes stale. ``has_ended`` tells the two apart, so
    the runner replaces the worker instead of calling it stuck (the fork server is stopped here to make that wait
    certain)."""
    child = multiprocessing.get_context("forkserver").Process(target=time.sleep, args=(600,), daemon=True)
    child.start()
    server = multiprocessing.forkserver._forkserver._forkserver_pid
    os.kill(server, signal.SIGSTOP)
    try:
        assert not has_ended(child)
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while not has_ended(child):
            assert time.monotonic() < deadline, "the killed child never showed as ended"
            time.sleep(0.05)
        assert child.exitcode is None  # the fork server has not reported it: it is stopped
    finally:
        os.kill(server, signal.SIGCONT)
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
