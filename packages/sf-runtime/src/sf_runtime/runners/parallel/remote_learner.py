"""The main process's stand-in for a learner that lives in another process: what the lifecycle checkpoints."""

from __future__ import annotations

import time
from typing import Any

from sf_runtime.runners.parallel.context import MSG_STATE_REQUEST
from sf_runtime.runners.parallel.failures import EXIT_REPORT_SEC, ComponentFailure, has_ended, how_it_ended
from sf_runtime.runners.parallel.learner_worker import state_from_bytes, state_to_bytes
from sf_runtime.runners.parallel.queue_recovery import release_orphaned_locks

_STATE_TIMEOUT_SEC = 300.0


class RemoteLearner:
    """A learner process, as the main process sees it.

    Before the processes start it only collects the state to resume from; afterwards :meth:`checkpoint_state` asks
    the learner process for its current state.

    Args:
        policy_id: the policy.

    Attributes:
        answer_within_sec: how long :meth:`checkpoint_state` waits for the learner's answer (shortened during the
            wind-down after a failure, which has a budget of its own).
    """

    def __init__(self, policy_id: int) -> None:
        self.policy_id = policy_id
        self.policy_version = 0
        self.initial_state: bytes | None = None
        self.queue: Any = None
        self.conn: Any = None
        self.process: Any = None
        self.answer_within_sec = _STATE_TIMEOUT_SEC

    def load_checkpoint_state(self, state: dict[str, Any]) -> None:
        """Keep a checkpoint's learner state for the learner process to load when it starts."""
        if self.process is not None:
            raise RuntimeError("a running learner process cannot load a checkpoint")
        self.initial_state = state_to_bytes(state)
        self.policy_version = int(state.get("policy_version", 0))

    def checkpoint_state(self) -> dict[str, Any]:
        """The learner process's current state (weights, optimizer, normalizers); also refreshes the version."""
        label = f"learner p{self.policy_id}"
        # has_ended, not is_alive: a dead learner's exit is reported by the fork server, late on a busy machine, and
        # meanwhile a put could block for good on a queue lock the learner died holding
        if self.process is None or has_ended(self.process):
            how = "is not running" if self.process is None else self._how_it_ended(label)
            raise ComponentFailure(f"{how}: cannot take its checkpoint")
        release_orphaned_locks([self.queue])
        self.queue.put((MSG_STATE_REQUEST,))
        limit = self.answer_within_sec
        deadline = time.monotonic() + limit
        while not self.conn.poll(0.5):  # a learner that dies meanwhile never answers: do not wait for it
            if has_ended(self.process):
                raise ComponentFailure(f"{self._how_it_ended(label)} while sending its checkpoint state")
            if time.monotonic() > deadline:
                raise ComponentFailure(f"{label} did not send its state within {limit:.0f}s")
        payload = state_from_bytes(self.conn.recv_bytes())
        self.policy_version = int(payload["policy_version"])
        return payload["state"]

    def _how_it_ended(self, label: str) -> str:
        self.process.join(EXIT_REPORT_SEC)  # the fork server reports the exit code
        return how_it_ended(label, self.process)
