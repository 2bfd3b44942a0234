"""PBT in the parallel runner: decisions travel from the main process to the learner and rollout worker processes.

- To a learner, on its queue: ``(MSG_PBT, hyperparameters, copy_weights_from)``. The learner copies the other
  policy's weights out of that policy's shared weight slot (every learner maps every slot at start, before the
  segments are unlinked), moves its version past ``max_policy_lag``, takes the hyperparameters for its next batch and
  publishes the weights.
- To every rollout worker, on the inbox of its current incarnation: ``(MSG_REWARD_SHAPING, policy, scheme)``; the
  worker sets the scheme on the env agents (rows) of that policy.
- Each learner reports what it applied (:class:`~.reports.PbtAppliedReport`), at start too; the main process logs
  it (:func:`describe_applied`).
- :attr:`RunContext.pbt` holds every policy's current settings; it is updated here before each message, so that a
  learner or a replacement worker started later begins with them.
"""

from __future__ import annotations

from typing import Any

from sf_runtime.runners.parallel.context import MSG_PBT, MSG_REWARD_SHAPING, RunContext
from sf_runtime.runners.parallel.slot_ownership import SlotOwnership


def pbt_snapshot(settings: dict[int, Any]) -> dict[int, dict[str, Any]]:
    """The :attr:`RunContext.pbt` form of the controller's settings: ``policy -> {hyperparameters, reward_shaping}``."""
    return {
        pid: {"hyperparameters": dict(s.hyperparameters), "reward_shaping": s.reward_shaping}
        for pid, s in settings.items()
    }


class ParallelPopulation:
    """The :class:`~sf_runtime.pbt.PopulationTarget` of the parallel runner.

    Args:
        ctx: the run context (its queues; its ``pbt`` settings are kept current).
        learners: the main process's :class:`RemoteLearner` stand-ins (their last reported versions).
        slots: the slot ownership, for the rollout workers' current incarnations.
    """

    def __init__(self, ctx: RunContext, learners: dict[int, Any], slots: SlotOwnership) -> None:
        self.ctx = ctx
        self.learners = learners
        self.slots = slots

    def apply(self, policy_id: int, settings: Any, copy_weights_from: int | None) -> int | None:
        ctx = self.ctx
        ctx.pbt = {**(ctx.pbt or {}), **pbt_snapshot({policy_id: settings})}
        ctx.learner_queues[policy_id].put((MSG_PBT, dict(settings.hyperparameters), copy_weights_from))
        if settings.reward_shaping is not None:
            for w, inboxes in enumerate(ctx.worker_queues):
                inboxes[self.slots.incarnation(w)].put((MSG_REWARD_SHAPING, policy_id, settings.reward_shaping))
        return None

    def policy_version(self, policy_id: int) -> int:
        return int(self.learners[policy_id].policy_version)


def apply_reward_shaping(env_vector: Any, policy_of_row: Any, policy_id: int, scheme: Any) -> None:
    """Set a policy's reward-shaping scheme on the rows (agents) of an env vector that it controls."""
    if scheme is None:
        return
    for row, pid in enumerate(policy_of_row):
        if int(pid) == policy_id:
            env_vector.set_reward_shaping(scheme, row)


def describe_applied(report: Any) -> str:
    """The log line of a learner's :class:`~.reports.PbtAppliedReport`."""
    values = ", ".join(f"{k}={v:.6g}" for k, v in sorted(report.hyperparameters.items()))
    if report.copied_from is None:
        return f"Policy {report.policy_id}: the learner trains with PBT hyperparameters {values}"
    return (
        f"Policy {report.policy_id}: the learner adopted the weights of policy {report.copied_from}, version "
        f"{report.version_before} -> {report.version_after}, and trains with PBT hyperparameters {values}"
    )
