"""sf-cli train starts the parallel runner's fork server before it imports torch, with the runtime's preload list.

Both starts of the fork server (sf-cli's early one, the runner's own) leave SIGINT and SIGTERM blocked in it: when
it dies of a signal to the process group, multiprocessing reads every child's exit code as 255 and the run takes its
learners for dead (no checkpoint on ``kill -TERM -<pgid>``). Each case starts the server in a fresh interpreter, where
the resource tracker does not run yet: starting that tracker unblocks both signals whatever the mask was before.
"""

from __future__ import annotations

import signal
import subprocess
import sys

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
