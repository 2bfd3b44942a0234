"""sf-cli train starts the parallel runner's fork server before it imports torch, with the runtime's preload list."""

from __future__ import annotations

import subprocess
import sys

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
