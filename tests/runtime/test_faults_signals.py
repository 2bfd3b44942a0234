"""SIGINT and SIGTERM sent to real runs: to the main process or its whole process group, once or twice.

Once: a checkpoint is saved through the learners, every child exits, the shared memory is released, exit code 2.
Twice (the second during the wind-down): the run ends at once, still with exit code 2 and nothing left behind.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

ENV_MODULE = Path(__file__).parent / "faulty_envs_calls.py"

SMALL = dict(num_envs_per_worker=4, batch_size=64)  # over conftest's run_config


@pytest.mark.parametrize(
    ("sig", "group"),
    [
        (signal.SIGTERM, False),
        # kill -TERM -<pgid>, docker stop: the children ignore it, so the learners are there to give the checkpoint
        (signal.SIGTERM, True),
        pytest.param(signal.SIGINT, False, marks=pytest.mark.slow),
        pytest.param(signal.SIGINT, True, marks=pytest.mark.slow),  # a terminal's Ctrl-C
    ],
    ids=["sigterm-main", "sigterm-group", "sigint-main", "sigint-group"],
)
def test_signal_saves_a_checkpoint_and_exits_2(training_process, run_config, sig, group):
    run = training_process(f"signal_{sig.name}_{group}", run_config(SMALL))
    run.wait_for("Fps is")
    assert len(run.children()) >= 4  # 2 rollout workers, 1 inference worker, 1 learner (and the fork server)

    sent = time.monotonic()
    run.send(sig, group=group)
    code = run.wait()
    seconds = time.monotonic() - sent

    out = run.output()
    assert code == 2, out
    assert "Interrupted (" in out and "Saved checkpoints" in out
    run.assert_clean()
    _cfg, state = run.load_experiment()
    assert state is not None and state["env_steps"] > 0 and state["policy_version"] > 0
    print(f"{sig.name} to {'the group' if group else 'main'}: exit {code} {seconds:.1f}s after the signal")


def test_second_ctrl_c_during_the_wind_down_exits_at_once(training_process, run_config):
    # The envs of rollout worker 1 take minutes to close: after the first Ctrl-C the run waits for that worker
    # while it stops sampling, which is when the second Ctrl-C comes.
    run = training_process("twice", run_config(SMALL, env="fault_slow_close", num_envs_per_worker=2), ENV_MODULE)
    run.wait_for("Fps is")

    run.send(signal.SIGINT, group=True)
    run.wait_for("Interrupted (")
    time.sleep(1.0)
    assert run.proc.poll() is None, run.output()  # still winding down
    sent = time.monotonic()
    run.send(signal.SIGINT, group=True)
    code = run.wait(timeout=60)
    seconds = time.monotonic() - sent

    out = run.output()
    assert code == 2, out
    assert "Received SIGINT while stopping: exiting at once" in out
    run.assert_clean()
    cfg, _state = run.load_experiment()  # the experiment dir is intact (its checkpoint, if any, too)
    assert cfg.env == "fault_slow_close"
    print(f"second SIGINT: exit {code} {seconds:.1f}s after it")


def test_programs_that_a_child_starts_can_still_be_stopped_with_sigterm():
    """Children ignore SIGINT and SIGTERM with a handler, not SIG_IGN, which would be inherited across exec: a
    simulator that an env runs as a program of its own must stay stoppable."""
    import subprocess
    import sys

    code = (
        "import signal, subprocess, time\n"
        "from sf_runtime.runners.parallel.process_setup import setup_child_process\n"
        "setup_child_process()\n"
        "assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_IGN, signal.SIG_DFL)\n"
        "sim = subprocess.Popen(['sleep', '60'])\n"
        "time.sleep(0.2)\n"
        "sim.send_signal(signal.SIGTERM)\n"
        "print('simulator exit', sim.wait(timeout=10))\n"
    )
    # a generous limit: importing torch alone took over 60 s at a load of 8 (a hog run beside two Doom trainings)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)

    assert result.returncode == 0, result.stderr
    assert f"simulator exit {-signal.SIGTERM}" in result.stdout
