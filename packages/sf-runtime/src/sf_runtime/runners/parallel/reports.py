"""What the children of a parallel run report to the main process on the stats queue: one named record per kind.

Only the main process reads them (:meth:`~sf_runtime.runners.parallel.runner.ParallelRunner._drain_stats`); they
travel pickled, so they are small and hold plain values.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class PolicyLag(NamedTuple):
    """Policy lag (learner version minus the version that produced a sample) of the samples of one training step."""

    min: int
    sum: float
    max: int
    count: int


class EpisodesReport(NamedTuple):
    """From a rollout worker: env frames sampled since its last report, and the episodes that ended meanwhile."""

    worker: int
    frames: int
    episodes: list[tuple[int, dict[str, Any]]]  # (policy id, the episode's statistics)


class TrainReport(NamedTuple):
    """From a learner, after each training step."""

    policy_id: int
    samples: int  # valid samples trained on (agent steps: the main process applies the frameskip)
    policy_version: int  # after the step
    lag: PolicyLag
    stats: dict[str, float]  # the learner's training statistics


class ChildError(NamedTuple):
    """From any child that failed: its label (``"rollout_worker 3"``) and the traceback."""

    label: str
    text: str


class EnvFailureReport(NamedTuple):
    """From a rollout worker whose env raised: the message naming the env, and whether its envs were recreated."""

    label: str
    text: str
    recreated: bool


class PbtAppliedReport(NamedTuple):
    """From a learner that applied PBT settings (at start, or on a ``MSG_PBT``): the weights it copied, if any, its
    version before and after, and the hyperparameters it trains with from its next batch."""

    policy_id: int
    copied_from: int | None
    version_before: int
    version_after: int
    hyperparameters: dict[str, float]
