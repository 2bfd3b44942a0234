"""The ray backend of sweeps (marker ``ray``, left out of the default run; CI runs ``pytest -m ray``).

Ray does not keep to loopback by itself, and this machine has no network but loopback: each test re-runs itself
under ``unshare --net`` (a network namespace whose only interface is ``lo``, brought up first), as root, with Ray's
usage stats off; without root or ``unshare`` it is skipped with the reason. The test starts and stops Ray itself
(``ray.init(address="local", include_dashboard=False)``). The helper is the ``loopback_netns`` fixture of conftest.
"""

from __future__ import annotations

import io
import os
import signal
import textwrap
import threading
import time

import pytest

from sf_runtime import Experiment, ParamGrid, RunDescription, run_sweep
from sf_runtime.launcher import read_status

pytestmark = pytest.mark.ray


TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys

    from sf_config import parse_full_cfg, parse_sf_args
    from sf_runtime import run_rl

    if __name__ == "__main__":
        parser, _ = parse_sf_args()
        sys.exit(run_rl(parse_full_cfg(parser)))
    """
)
FAST = (
    "--env=CartPole-v1 --serial_mode=True --device=cpu --use_rnn=False --encoder_mlp_layers 32 --num_workers=1 "
    "--num_envs_per_worker=4 --rollout=16 --batch_size=256 --save_every_sec=2"
)


@pytest.fixture
def local_ray():
    """A local Ray instance for the test (2 CPUs, no dashboard), shut down after it.

    Ray gives its node 30 s to start, which a busy 2-core machine can miss: a start that times out is tried again.
    """
    import ray

    assert os.environ.get("RAY_USAGE_STATS_ENABLED") == "0"
    for attempt in range(3):
        try:
            ray.init(address="local", include_dashboard=False, num_cpus=2, log_to_driver=False)
            break
        except Exception as exc:
            ray.shutdown()
            if "timed out during startup" not in str(exc) or attempt == 2:
                raise
    yield ray
    ray.shutdown()


def _script(tmp_path):
    script = tmp_path / "train_ray_cartpole.py"
    script.write_text(TRAIN_SCRIPT)
    return script


def test_ray_backend_runs_a_two_run_sweep(request, tmp_path):
    if not request.getfixturevalue("loopback_netns"):
        return
    ray = request.getfixturevalue("local_ray")
    description = RunDescription(
        "ray_sweep",
        [
            Experiment(
                "cp",
                f"python {_script(tmp_path)} {FAST} --train_for_env_steps=2000",
                ParamGrid([("seed", [1, 2])]).generate_params(randomize=False),
                num_cpus=1,
            )
        ],
    )
    out = io.StringIO()
    result = run_sweep(description, tmp_path, backend="ray", max_parallel=2, pause_between=0, stream=out)
    text = out.getvalue()
    assert result.exit_code == 0, text
    assert "(ray, max_parallel 2" in text
    assert sorted(r.name for r in result.done) == ["cp_seed_1", "cp_seed_2"]
    for record in result.done:
        status = read_status(record.spec.run_dir)
        assert status["state"] == "done" and status["exit_code"] == 0 and status["backend"] == "ray"
        assert (record.spec.run_dir / "config.json").is_file()
        assert "exit code 0 (ray task)" in record.log_path.read_text()
    assert text.count("[sweep] finished cp_seed_") == 2
    assert ray.is_initialized()  # the test's own Ray is left to the test

    out = io.StringIO()
    again = run_sweep(description, tmp_path, backend="ray", stream=out)
    assert again.exit_code == 0 and len(again.skipped) == 2 and "2 finished earlier, 0 to run" in out.getvalue()


def test_ray_backend_stops_its_runs_on_interrupt(request, tmp_path):
    if not request.getfixturevalue("loopback_netns"):
        return
    request.getfixturevalue("local_ray")
    description = RunDescription(
        "ray_stop", [Experiment("cp", f"python {_script(tmp_path)} {FAST} --train_for_env_steps=10000000")]
    )
    run_dir = description.generate_runs(tmp_path)[0].run_dir

    def stop_once_training():
        deadline = time.monotonic() + 240
        while not list((run_dir / "checkpoint_p0").glob("checkpoint_*")) and time.monotonic() < deadline:
            time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=stop_once_training, daemon=True)
    thread.start()
    out = io.StringIO()
    result = run_sweep(description, tmp_path, backend="ray", stream=out, stop_timeout=120)
    thread.join()
    assert result.interrupted and result.exit_code == 2, out.getvalue()
    record = result.records[0]
    assert record.state == "interrupted", out.getvalue()
    status = read_status(run_dir)
    assert status["state"] == "interrupted" and status["exit_code"] == 2  # sf saved and exited as on Ctrl-C
    pid = status["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
