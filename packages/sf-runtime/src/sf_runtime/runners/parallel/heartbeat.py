"""Shared run state: one heartbeat timestamp per component, and the run's control flags.

Every child process writes ``time.monotonic()`` (a system-wide clock on Linux) into its own heartbeat entry at
least once per loop iteration; the main process names any component whose entry is older than
``heartbeat_reporting_interval`` instead of waiting on it forever. Control flags are written only by the main
process and read by the children at each loop iteration.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from sf_runtime.runners.parallel.shared_memory import ArraySpec, SharedArena, SharedArray

# Control flag indices.
STOP_SAMPLING = 0  # rollout and inference workers leave their loops
STOP_ALL = 1  # learners leave theirs (after the last checkpoint was taken)
_MAIN_PID = 2  # not a flag: the pid of the main process, which children watch
_NUM_FLAGS = 3
_MAIN_CHECK_SEC = 1.0


def process_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (a killed process stays a zombie until its parent reaps it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    except OSError:  # no procfs: fall back to signal 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] not in (b"Z", b"X")


@dataclass(frozen=True)
class Component:
    """A process of the run, as named in reports and errors.

    Attributes:
        role: ``"rollout_worker"``, ``"inference_worker"`` or ``"learner"``.
        index: worker index (rollout), ``(policy, index)`` flattened as text for the others.
        label: readable name, e.g. ``"rollout_worker 1"`` or ``"inference_worker p0#0"``.
    """

    role: str
    index: int
    label: str


class RunState:
    """Heartbeats and control flags in shared memory.

    Args:
        handle: ``(heartbeat spec, flags spec)``.
        arrays: the owner's mapped arrays, else mapped from the specs.
    """

    def __init__(self, handle: tuple[ArraySpec, ArraySpec], arrays: tuple[SharedArray, SharedArray] | None = None):
        self.handle = handle
        if arrays is None:
            arrays = (SharedArray(handle[0]), SharedArray(handle[1]))
        self._beats = arrays[0].numpy
        self._flags = arrays[1].numpy
        self._next_main_check = 0.0

    @classmethod
    def allocate(cls, arena: SharedArena, num_components: int) -> RunState:
        """Create the shared arrays for ``num_components`` heartbeats (all zero: never reported)."""
        beats = arena.create((num_components,), "float64")
        flags = arena.create((_NUM_FLAGS,), "int64")
        flags.numpy[_MAIN_PID] = os.getpid()
        return cls((beats.spec, flags.spec), (beats, flags))

    def beat(self, component_index: int) -> None:
        """Record that a component is alive now."""
        self._beats[component_index] = time.monotonic()

    def last_beat(self, component_index: int) -> float:
        """The monotonic time of a component's last heartbeat (0.0 when it never reported)."""
        return float(self._beats[component_index])

    def set(self, flag: int) -> None:
        """Raise a control flag."""
        self._flags[flag] = 1

    def is_set(self, flag: int) -> bool:
        """Whether a control flag is raised."""
        return bool(self._flags[flag])

    def keep_running(self, flag: int) -> bool:
        """For a child's loop: False once ``flag`` is raised or the main process is gone (e.g. it was killed), so
        that no process of a dead run keeps running. The main process is looked at once a second."""
        if self._flags[flag]:
            return False
        now = time.monotonic()
        if now >= self._next_main_check:
            self._next_main_check = now + _MAIN_CHECK_SEC
            if not process_alive(int(self._flags[_MAIN_PID])):
                return False
        return True

    def silent_components(self, since: float, now: float | None = None) -> list[int]:
        """Indices of components whose last heartbeat is older than ``since`` seconds."""
        now = time.monotonic() if now is None else now
        return [i for i, beat in enumerate(self._beats) if now - float(beat) > since]

    def never_reported(self) -> list[int]:
        """Indices of components that have not reported once."""
        return [i for i, beat in enumerate(self._beats) if beat == 0.0]
