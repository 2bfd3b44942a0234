"""The processes backend of sweeps, with small stand-in jobs (no training): parallelism, cores, GPUs, failures,
leftover processes, the live table, and stopping on Ctrl-C / SIGTERM."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from sf_runtime import Experiment, ParamGrid, ParamList, RunDescription, run_sweep
from sf_runtime.launcher import read_status
from sf_runtime.launcher.processes import session_members, stop_processes
from sf_runtime.launcher.state import StopRequest

# A stand-in for a training script: takes --mode, --seconds, --experiment and --train_dir, writes what it saw to
# <train_dir>/<experiment>/job.json.
JOB = textwrap.dedent(
    """
    import argparse, json, os, signal, subprocess, sys, time

    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--train_dir", required=True)
    args = parser.parse_args()
    out = os.path.join(args.train_dir, args.experiment, "job.json")
    info = {
        "pid": os.getpid(),
        "start": time.time(),
        "cores": sorted(os.sched_getaffinity(0)),
        "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "cwd": os.getcwd(),
        "children": [],
    }

    def save():
        with open(out + ".tmp", "w") as f:
            json.dump(info, f)
        os.replace(out + ".tmp", out)

    if args.mode == "fail":
        print("something went wrong on purpose", file=sys.stderr)
        sys.exit(3)
    if args.mode in ("stubborn", "daemon"):
        code = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(600)"
        child = subprocess.Popen([sys.executable, "-c", code], process_group=0)  # another group, same session
        info["children"].append(child.pid)
    if args.mode == "stubborn":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if args.mode == "graceful":
        signal.signal(signal.SIGINT, lambda *_: (print("got SIGINT, saving and exiting"), sys.exit(2)))
    save()
    if args.mode == "daemon":
        sys.exit(0)
    time.sleep(args.seconds)
    info["end"] = time.time()
    save()
    """
)


@pytest.fixture
def job(tmp_path) -> str:
    path = tmp_path / "job.py"
    path.write_text(JOB)
    return f"python {path}"


def _description(job: str, params: list[dict], name: str = "jobs") -> RunDescription:
    return RunDescription(name, [Experiment("j", job, ParamList(params).generate_params(randomize=False))])


def _job_info(run_dir: Path) -> dict:
    return json.loads((run_dir / "job.json").read_text())


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_parallelism_is_bounded_and_each_run_gets_cores_of_its_own(tmp_path, job):
    description = _description(job, [{"seed": s, "seconds": 1.5} for s in range(4)])
    out = io.StringIO()
    result = run_sweep(description, tmp_path / "td", max_parallel=2, pause_between=0, stream=out)
    assert result.exit_code == 0 and len(result.done) == 4, out.getvalue()
    infos = [_job_info(r.spec.run_dir) for r in result.records]
    for info in infos:  # never more than 2 at a time: count the runs going on when each one starts
        going_on = [o for o in infos if o["start"] <= info["start"] < o["end"]]
        assert len(going_on) <= 2
    available = sorted(os.sched_getaffinity(0))
    if len(available) >= 2:
        per_run = len(available) // 2
        assert all(len(info["cores"]) == per_run for info in infos)
        for a in infos:
            for b in infos:
                if a is not b and a["start"] < b["end"] and a["end"] > b["start"]:
                    assert not set(a["cores"]) & set(b["cores"]), "two runs at once share a core"
    assert all(info["cwd"] == os.getcwd() for info in infos)
    text = out.getvalue()
    assert "\x1b[" not in text  # not a TTY: plain lines
    assert text.count("started  j_seed_") == 4 and text.count("finished j_seed_") == 4


def test_without_pinning_runs_keep_the_launchers_cores(tmp_path, job):
    result = run_sweep(_description(job, [{"seed": 1, "seconds": 0}]), tmp_path, pin_cores=False, stream=io.StringIO())
    assert _job_info(result.records[0].spec.run_dir)["cores"] == sorted(os.sched_getaffinity(0))


def test_gpus_are_shared_out_experiments_per_gpu_at_a_time(tmp_path, job):
    description = _description(job, [{"seed": s, "seconds": 1.0} for s in range(4)])
    result = run_sweep(
        description, tmp_path, max_parallel=4, pause_between=0, num_gpus=2, experiments_per_gpu=1, stream=io.StringIO()
    )
    infos = [_job_info(r.spec.run_dir) for r in result.records]
    assert {info["cuda"] for info in infos} == {"0", "1"}
    for a in infos:
        for b in infos:
            if a is not b and a["cuda"] == b["cuda"]:
                assert a["end"] <= b["start"] or b["end"] <= a["start"], "two runs at once on one GPU"
    assert read_status(result.records[0].spec.run_dir)["gpu"] in ("0", "1")
    hidden = run_sweep(
        _description(job, [{"seed": 9, "seconds": 0}], "nogpu"), tmp_path, num_gpus=0, stream=io.StringIO()
    )
    assert _job_info(hidden.records[0].spec.run_dir)["cuda"] == ""


def test_a_failed_run_is_reported_with_its_log_and_a_rerun_does_only_it(tmp_path, job):
    description = RunDescription(
        "mixed",
        [Experiment("j", job, ParamGrid([("seed", [1, 2]), ("mode", ["ok", "fail"])]).generate_params(False))],
    )
    out = io.StringIO()
    result = run_sweep(description, tmp_path, max_parallel=2, pause_between=0, stream=out)
    text = out.getvalue()
    assert result.exit_code == 1
    assert sorted(r.name for r in result.failed) == ["j_seed_1_mode_fail", "j_seed_2_mode_fail"]
    assert len(result.done) == 2
    failed = result.failed[0]
    assert "something went wrong on purpose" in failed.log_path.read_text()
    assert f"FAILED {failed.name} (exit 3); log {failed.log_path}:" in text
    assert "    | something went wrong on purpose" in text
    assert read_status(failed.spec.run_dir)["state"] == "failed"
    finished_at = {r.name: read_status(r.spec.run_dir)["finished_at"] for r in result.done}

    out = io.StringIO()
    again = run_sweep(description, tmp_path, max_parallel=2, pause_between=0, stream=out)
    text = out.getvalue()
    assert "4 runs in" in text and "2 finished earlier, 2 to run" in text
    assert sorted(r.name for r in again.skipped) == sorted(finished_at)
    assert text.count("started  ") == 2 and "started  j_seed_1_mode_fail" in text
    assert {r.name: read_status(r.spec.run_dir)["finished_at"] for r in again.skipped} == finished_at
    assert read_status(failed.spec.run_dir)["attempt"] == 2
    assert failed.log_path.read_text().count("=== sweep: attempt ") == 2


@pytest.mark.parametrize("pin_cores", [True, False])  # through taskset, or straight
def test_a_command_that_cannot_start_fails_with_127(tmp_path, pin_cores):
    description = RunDescription("nocmd", [Experiment("x", "/no/such/program --flag")])
    out = io.StringIO()
    result = run_sweep(description, tmp_path, stream=out, pin_cores=pin_cores)
    assert result.exit_code == 1 and result.failed[0].exit_code == 127
    assert "/no/such/program: No such file or directory" in result.failed[0].log_path.read_text()
    assert "No such file or directory" in out.getvalue()


def test_processes_a_finished_run_leaves_behind_are_killed(tmp_path, job):
    result = run_sweep(_description(job, [{"mode": "daemon"}]), tmp_path, stream=io.StringIO())
    assert result.exit_code == 0
    info = _job_info(result.records[0].spec.run_dir)
    deadline = time.monotonic() + 10
    while _alive(info["children"][0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(info["children"][0])
    assert "killed 1 process(es) of the run still alive after it ended" in result.records[0].log_path.read_text()


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_live_table_is_redrawn_in_place_on_a_tty(tmp_path, job):
    out = _Tty()
    run_sweep(_description(job, [{"seed": 1, "seconds": 2.5}]), tmp_path, stream=out)
    text = out.getvalue()
    assert "\x1b[" in text and "F\x1b[J" in text  # cursor up, clear: redrawn in place
    assert "run" in text and "state" in text and "elapsed" in text and "exit" in text
    last_table = text.rsplit("\x1b[J", 1)[-1]
    assert "j_seed_1" in last_table and "done" in last_table


def test_stop_processes_sigint_then_sigkill_after_the_deadline(tmp_path):
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"],
        start_new_session=True,
    )
    graceful = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    time.sleep(1.0)
    started = time.monotonic()
    killed = stop_processes({stubborn.pid: stubborn, graceful.pid: graceful}, timeout=2.0)
    assert killed == {stubborn.pid}
    assert 2.0 <= time.monotonic() - started < 15
    assert graceful.returncode != 0 and stubborn.returncode == -signal.SIGKILL
    urgent = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"],
        start_new_session=True,
    )
    time.sleep(1.0)
    stop = StopRequest()
    stop()
    stop()  # a second Ctrl-C: no waiting
    started = time.monotonic()
    assert stop_processes({urgent.pid: urgent}, timeout=60, stop=stop) == {urgent.pid}
    assert time.monotonic() - started < 10


def test_sigterm_on_the_launcher_stops_the_runs(tmp_path, job):
    description = _description(job, [{"mode": "graceful", "seconds": 120}])
    run_dir = description.generate_runs(tmp_path)[0].run_dir

    def terminate_once_running():
        deadline = time.monotonic() + 60
        while not (run_dir / "job.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=terminate_once_running, daemon=True)
    thread.start()
    out = io.StringIO()
    result = run_sweep(description, tmp_path, stream=out, stop_timeout=20)
    thread.join()
    assert result.interrupted and result.exit_code == 2
    record = result.records[0]
    assert record.state == "interrupted" and record.exit_code == 2
    assert read_status(run_dir)["state"] == "interrupted"
    assert "got SIGINT, saving and exiting" in record.log_path.read_text()
    assert "interrupted: stopping 1 run(s)" in out.getvalue()


def test_ctrl_c_on_the_launcher_stops_its_runs_and_leaves_no_process(tmp_path, job):
    desc = tmp_path / "ctrl_c_sweep.py"
    desc.write_text(
        textwrap.dedent(
            f"""
            from sf_runtime import Experiment, ParamList, RunDescription

            RUN_DESCRIPTION = RunDescription(
                "ctrl_c",
                [
                    Experiment(
                        "j",
                        {job!r},
                        ParamList(
                            [{{"mode": "graceful", "seconds": 600}}, {{"mode": "stubborn", "seconds": 600}},
                             {{"mode": "ok", "seconds": 0}}]
                        ).generate_params(randomize=False),
                    )
                ],
            )
            """
        )
    )
    launcher = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from sf_runtime import launcher_main; sys.exit(launcher_main())",
            f"--run={desc}",
            f"--train_dir={tmp_path / 'td'}",
            "--max_parallel=2",
            "--pause_between=0",
            "--stop_timeout=3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C reaches the launcher alone, as in a terminal (runs have sessions of their own)
    )
    sweep_dir = tmp_path / "td" / "ctrl_c"
    graceful, stubborn, never = (
        sweep_dir / n for n in ("j_mode_graceful_seconds_600", "j_mode_stubborn_seconds_600", "j_mode_ok_seconds_0")
    )
    deadline = time.monotonic() + 120
    while not ((graceful / "job.json").exists() and (stubborn / "job.json").exists()):
        assert launcher.poll() is None, launcher.communicate()[0]
        assert time.monotonic() < deadline, "the runs did not start"
        time.sleep(0.2)
    infos = [_job_info(graceful), _job_info(stubborn)]
    pids = [infos[0]["pid"], infos[1]["pid"], *infos[1]["children"]]
    assert all(_alive(pid) for pid in pids)

    os.kill(launcher.pid, signal.SIGINT)
    output, _ = launcher.communicate(timeout=60)
    assert launcher.returncode == 2, output
    assert "interrupted: stopping 2 run(s)" in output
    assert "stopped  j_mode_stubborn_seconds_600" in output and "killed" in output
    assert "0 finished, 0 failed, 3 not finished" in output  # two stopped, one never started
    assert not any(_alive(pid) for pid in pids), [p for p in pids if _alive(p)]
    assert session_members(infos[0]["pid"]) == [] and session_members(infos[1]["pid"]) == []
    assert read_status(graceful)["state"] == "interrupted" and read_status(graceful)["exit_code"] == 2
    assert read_status(stubborn)["state"] == "interrupted" and read_status(stubborn)["exit_code"] == -signal.SIGKILL
    assert read_status(never) is None


def test_runs_get_sigint_even_when_the_launcher_blocks_it(tmp_path, job):
    """A Ray worker blocks SIGINT (and a shell's background job ignores it); both are inherited across exec, so a
    run started from there gets the default signals back first."""
    from sf_runtime.launcher.processes import run_environment, signal_group, start_run

    spec = _description(job, [{"mode": "graceful", "seconds": 120}]).generate_runs(tmp_path)[0]
    started = {}

    def start_with_sigint_blocked():
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        started["proc"], _, started["error"] = start_run(spec, run_environment(spec))

    thread = threading.Thread(target=start_with_sigint_blocked)
    thread.start()
    thread.join()
    proc = started["proc"]
    deadline = time.monotonic() + 60
    while not (spec.run_dir / "job.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    signal_group(proc.pid, signal.SIGINT)
    try:
        assert proc.wait(timeout=30) == 2
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "got SIGINT, saving and exiting" in (spec.run_dir / "sweep_log.txt").read_text()
