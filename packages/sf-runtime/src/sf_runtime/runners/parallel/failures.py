"""How the main process of a parallel run names a child that failed."""

from __future__ import annotations

import signal
from typing import Any

EXIT_REPORT_SEC = 30.0
"""How long to wait for the fork server to report the exit code of a child seen dead (a busy machine)."""

NO_ERROR_TEXT = "it reported no error (killed by a signal, out of memory, or it failed while starting: see its output)"


class ComponentFailure(RuntimeError):
    """A process of the run died or stopped reporting; the message names it (role and index)."""


class EnvFailure(ComponentFailure):
    """An env raised in a rollout worker more often than ``max_env_failures`` allows; the message names the env."""


def how_it_ended(label: str, process: Any) -> str:
    """``"<label> (pid N) was killed by signal SIGKILL"`` or ``"... exited with code C"`` for an ended process."""
    code = process.exitcode
    if code is not None and code < 0:
        try:
            how = f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with code {code}"
    return f"{label} (pid {process.pid}) {how}"


def has_ended(proc: Any) -> bool:
    """Whether a child process ended, even when its exit code is not known yet.

    The fork server, not this process, reaps the children and reports their exit codes; on a busy machine that can
    take seconds, during which the child is a zombie (``Z`` in ``/proc/<pid>/stat``) or gone.
    """
    if proc.exitcode is not None:
        return True
    try:
        with open(f"/proc/{proc.pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    except (OSError, IndexError):  # no /proc here: only the exit code tells
        return False
    return state in ("Z", "X")
