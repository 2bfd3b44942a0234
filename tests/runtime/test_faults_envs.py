"""Fault injection into envs of real runs: an env raises in step or reset, an env hangs, envs are recreated.

The faulty envs (tests/runtime/faulty_envs_calls.py) are CartPole; only the env with env_id 3 misbehaves (rollout
worker 1, split 1, env index 1 with 2 workers x 2 envs; the fourth env of the serial runner).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

ENV_MODULE = Path(__file__).parent / "faulty_envs_calls.py"

# over conftest's run_config; each test names its env. The faulty envs fail at a set step or reset of their own, so
# the envs are not decorrelated (random steps at the first reset would move a failing reset out of step()).
SMALL = dict(rollout=8, heartbeat_reporting_interval=4, train_for_seconds=120, decorrelate_envs_on_one_worker=False)


def scalars_of(experiment_dir: Path, tag: str) -> list[float]:
    """The values of one scalar in the run's summaries of policy 0."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(experiment_dir / ".summary" / "0"))
    acc.Reload()
    return [event.value for event in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []


@pytest.mark.parametrize(
    ("env", "call", "message"),
    [("fault_step_raises", "step", "simulated fault in step"), ("fault_reset_raises", "step", "fault in reset")],
)
def test_env_exception_stops_the_run_names_the_env_and_saves(training_process, run_config, env, call, message):
    run = training_process(f"raises_{env}", run_config(SMALL, env=env), ENV_MODULE)

    start = time.monotonic()
    code = run.wait()
    seconds = time.monotonic() - start

    out = run.output()
    assert code == 1, out
    # the env, its ids, the worker and split, and the env's own traceback
    assert f"env '{env}' (env_id 3, env index 1 of rollout_worker 1) raised RuntimeError in {call}" in out
    assert "in rollout_worker 1, split 1" in out
    assert "Traceback (most recent call last)" in out and message in out
    assert "faulty_envs_calls.py" in out  # the frame of the env that raised
    assert "max_env_failures=0: the run stops" in out
    assert "Saving a checkpoint after the failure" in out
    run.assert_clean()
    cfg, state = run.load_experiment()
    assert cfg.env == env
    assert state is not None and state["env_steps"] >= 0
    print(f"{env}: stopped {seconds:.1f}s after the start, exit code {code}")


def test_failing_env_is_recreated_up_to_max_env_failures(training_process, run_config):
    # The faulty env raises on its 60th step, and so does every recreated one: failures 1 and 2 are survived, the
    # third is one too many.
    run = training_process("recreate", run_config(SMALL, env="fault_step_raises", max_env_failures=2), ENV_MODULE)

    start = time.monotonic()
    code = run.wait()
    seconds = time.monotonic() - start

    out = run.output()
    assert code == 1, out
    assert "Env failure 1 of max_env_failures=2 (envs recreated, the run goes on)" in out
    assert "Env failure 2 of max_env_failures=2 (envs recreated, the run goes on)" in out
    assert "failure 3 is more than max_env_failures=2: the run stops" in out
    assert out.count("env 'fault_step_raises' (env_id 3, env index 1 of rollout_worker 1) raised") >= 3
    assert "Env failures: 3 (max_env_failures=2)." in out  # the final progress report counts them
    run.assert_clean()
    cfg, state = run.load_experiment()
    assert cfg.max_env_failures == 2
    assert state is not None and state["env_steps"] > 0  # training went on between the failures
    assert scalars_of(run.tmp_path / "recreate", "perf/env_failures")[-1] == 3.0
    print(f"3 env failures (2 survived): exit {code} {seconds:.1f}s after the start")


def test_hanging_env_is_named_and_the_run_stops_with_a_checkpoint(training_process, run_config):
    run = training_process("hang", run_config(SMALL, env="fault_step_hangs"), ENV_MODULE)

    start = time.monotonic()
    code = run.wait()
    seconds = time.monotonic() - start

    out = run.output()
    assert code == 1, out
    assert "rollout_worker 1 (silent for" in out
    assert "no heartbeat within heartbeat_reporting_interval=4s" in out
    assert "Stack of rollout_worker 1" in out  # where it hung, printed by the child before it is killed
    assert "in step" in out and "faulty_envs_calls.py" in out
    assert "Killing rollout_worker 1" in out  # it ignores SIGTERM and hangs: killed so that stopping need not wait
    assert "Saving a checkpoint after the failure" in out
    run.assert_clean()
    _cfg, state = run.load_experiment()
    assert state is not None and state["policy_version"] > 0
    print(f"hang: exit {code} {seconds:.1f}s after the start (heartbeat_reporting_interval=4)")


def test_serial_runner_names_the_failing_env_and_saves(training_process, run_config):
    run = training_process("serial", run_config(SMALL, env="fault_step_raises", serial_mode=True), ENV_MODULE)

    code = run.wait()

    out = run.output()
    assert code == 1, out
    assert "env 'fault_step_raises' (env_id 3) raised RuntimeError in step: simulated fault in step" in out
    assert "faulty_envs_calls.py" in out
    assert "Saving a checkpoint after the env failure" in out
    run.assert_clean()
    _cfg, state = run.load_experiment()
    assert state is not None


def test_max_env_failures_is_validated():
    from sf_config import ConfigError, make_cfg

    with pytest.raises(ConfigError, match="max_env_failures: -1 is out of range"):
        make_cfg(max_env_failures=-1)
    assert json.loads(json.dumps(make_cfg(max_env_failures=5).to_dict()))["max_env_failures"] == 5


def test_recreated_split_masks_the_failed_step(tmp_path, monkeypatch, run_config):
    """The trajectory a recreated split leaves: the failed step masked and ended, fresh episodes after it."""
    import importlib

    import numpy as np

    from sf_config import make_cfg
    from sf_runtime.runners.parallel import ParallelRunner
    from sf_runtime.runners.parallel.reports import EnvFailureReport
    from sf_runtime.runners.parallel.rollout_worker import RolloutWorker

    monkeypatch.syspath_prepend(str(ENV_MODULE.parent))
    envs = importlib.import_module(ENV_MODULE.stem)
    cfg = make_cfg(
        **run_config(SMALL, rollout=64, batch_size=64, use_rnn=True, rnn_size=8, env="fault_step_raises"),
        max_env_failures=1,
        experiment="mask",
        train_dir=str(tmp_path),
    )
    (tmp_path / "mask").mkdir()
    runner = ParallelRunner(cfg)
    ctx = runner._build_context()  # real shared buffers and queues, no processes
    try:
        worker = RolloutWorker(ctx, 1)  # its split 1 holds env_id 3, which raises on its 60th step
        split = worker.splits[1]
        old_vector = split.env_vector
        rows = worker._rows(1, split.k)
        buf = worker.buffers.np
        buf["rnn_states"][rows] = 1.0  # so that the zeroing is visible
        assert worker._reset(1)
        for _ in range(envs.FAULT_AT_STEP):
            worker._step(1)  # actions are the buffer's zeros: CartPole pushes left, episodes end and restart

        failed = envs.FAULT_AT_STEP - 1
        assert split.env_vector is not old_vector and split.t == failed + 1
        assert buf["valids"][rows, :failed].all() and not buf["valids"][rows, failed].any()
        assert buf["dones"][rows, failed].all() and (buf["rewards"][rows, failed] == 0).all()
        assert buf["rnn_states"].shape[-1] == 8 and (buf["rnn_states"][rows, failed + 1] == 0).all()
        first_obs = buf["obs/obs"][rows, failed + 1]
        assert (np.abs(first_obs) <= 0.05).all()  # CartPole's reset state, not a mid-episode one
        report = ctx.stats_queue.get(timeout=5)
        assert isinstance(report, EnvFailureReport)
        assert report.label == "rollout_worker 1" and report.recreated is True
        assert "env_id 3" in report.text and "simulated fault in step" in report.text
        worker.close()
    finally:
        runner.arena.unlink_all()
