"""sf-cli train starts the parallel runner's fork server before it imports torch, with the runtime's preload list.

Both starts of the fork server (sf-cli's early one, the runner's own) leave SIGINT and SIGTERM blocked in it: when
it dies of a signal to the process group, multiprocessing reads every child's exit code as 255 and the run takes its
learners for dead (no checkpoint on ``kill -TERM -<pgid>``). Each case starts the server in a fresh interpreter, where
the resource tracker does not run yet: starting that tracker unblocks both signals whatever the mask was before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from sf_cli._fork_server import PRELOAD
from sf_runtime.runners.parallel.launch import PRELOAD as RUNTIME_PRELOAD


def test_the_cli_preloads_what_the_runtime_preloads():
    assert PRELOAD == RUNTIME_PRELOAD


def test_starting_the_fork_server_imports_no_torch_and_returns_at_once():
    code = (
        "import sys, time, multiprocessing.forkserver as fs\n"
        "from sf_cli._fork_server import start_fork_server\n"
        "t = time.monotonic(); started = start_fork_server(); took = time.monotonic() - t\n"
        "pid = fs._forkserver._forkserver_pid\n"
        "import os; os.kill(pid, 0)\n"  # the server runs
        "print(started, 'torch' in sys.modules, pid is not None, took)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    started, torch_imported, has_pid, took = done.stdout.split()
    assert (started, torch_imported, has_pid) == ("True", "False", "True")
    # it does not wait for the server's imports of torch (seconds): a busy machine still starts a process in well
    # under that, but the bound is generous
    assert float(took) < 30.0


_READ_MASK = (
    "import multiprocessing.forkserver as fs\n"
    "pid = fs._forkserver._forkserver_pid\n"
    "status = open(f'/proc/{pid}/status').read()\n"
    "print(int(status.split('SigBlk:')[1].split()[0], 16))\n"
)

STARTS = {
    "runtime": (
        "from sf_runtime.runners.parallel.launch import fork_server\n"
        "from sf_runtime.runners.parallel.process_setup import stop_signals_blocked\n"
        "with stop_signals_blocked():\n"
        "    fork_server()\n"
    ),
    "sf-cli": "from sf_cli._fork_server import start_fork_server\nstart_fork_server()\n",
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the mask from /proc")
@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_the_fork_server_starts_with_the_stop_signals_blocked(start):
    done = subprocess.run([sys.executable, "-c", start + _READ_MASK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    blocked = int(done.stdout.split()[-1])
    for sig in (signal.SIGINT, signal.SIGTERM):
        assert blocked & (1 << (sig - 1)), f"{sig.name} is not blocked in the fork server (mask {blocked:#x})"


_EARLY = (
    "import os, sys\n"
    "import multiprocessing.forkserver as fs\n"
    "from sf_cli._fork_server import start_early, stop_fork_server\n"
    "started = start_early(sys.argv[1:])\n"
    "pid = fs._forkserver._forkserver_pid\n"
    "print(started, pid is not None, 'click' in sys.modules, 'torch' in sys.modules)\n"
    "stop_fork_server()\n"
    "if pid is not None:\n"
    "    try:\n"
    "        os.kill(pid, 0)\n"
    "        print('still running')\n"
    "    except ProcessLookupError:\n"
    "        print('stopped')\n"
)


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["train"], True),
        (["train", "--env", "CartPole-v1", "--learning_rate=3e-4"], True),
        (["train", "--help"], False),
        (["train", "--serial_mode", "True"], False),  # the configuration decides, once resolved
        (["train", "--distributed=ray"], False),
        (["enjoy", "--experiment", "x"], False),
        ([], False),
    ],
)
def test_sf_cli_starts_the_fork_server_first_for_train_only_and_stops_it_at_once(args, starts):
    done = subprocess.run([sys.executable, "-c", _EARLY, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    started, has_pid, click_imported, torch_imported = lines[0].split()
    assert (started, has_pid) == (str(starts), str(starts))
    assert (click_imported, torch_imported) == ("False", "False")  # nothing heavy before the start
    if starts:  # killed and reaped, even in the middle of its imports of torch
        assert lines[1] == "stopped"


def _session_processes(sid: int) -> list[str]:
    """Command lines of the live processes of session ``sid`` (as tests/runtime's ``TrainingProcess`` finds them)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == sid and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(" ".join(proc.cmdline()))
        except (psutil.Error, ProcessLookupError, PermissionError):
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_serial_run_set_by_a_config_file_stops_the_fork_server_started_early(tmp_path, fast_train_args):
    """The command line does not say serial, so sf-cli starts the fork server; the resolved config does: stopped."""
    config_file = tmp_path / "serial.toml"
    config_file.write_text("serial_mode = true\n", encoding="utf-8")
    args = [a for a in fast_train_args if a != "--serial_mode"]
    train_dir = tmp_path / "td"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sf_cli", "train", "--config", str(config_file), "--train_dir", str(train_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not list(train_dir.glob("*/config.json")):  # the serial run has started
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the serial run did not start within 300 s"
            time.sleep(0.1)
        left = [c for c in _session_processes(proc.pid) if "forkserver" in c]
        assert not left, left
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=300)
    assert proc.returncode in (0, 2), out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_bad_input_to_train_leaves_no_fork_server(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sf_cli", "train", "--train_dir", str(tmp_path), "--learning_rate=-1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 2, out
    assert "learning_rate" in out
    assert not [c for c in _session_processes(proc.pid) if "forkserver" in c]
    assert not list(tmp_path.iterdir())
