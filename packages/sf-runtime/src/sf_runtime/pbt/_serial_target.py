"""PBT in the serial runner: learners and envs live in this process, so decisions apply at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sf_runtime.pbt._state import PolicySettings


class SerialPopulation:
    """The :class:`~sf_runtime.pbt.PopulationTarget` of the serial runner.

    Args:
        learners: the run's learners by policy id.
        env_vector: the run's env vector (reward shaping is set per agent row).
        policy_of_agent: the policy of each agent row of ``env_vector``, kept by reference: an async run redraws it
            in place, and then calls :meth:`shape_rows` for the rows that changed policy.
    """

    def __init__(self, learners: Mapping[int, Any], env_vector: Any, policy_of_agent: Sequence[int]) -> None:
        self.learners = learners
        self.env_vector = env_vector
        self.policy_of_agent = policy_of_agent
        self.reward_shaping: dict[int, Any] = {}

    def apply(self, policy_id: int, settings: PolicySettings, copy_weights_from: int | None) -> int | None:
        learner = self.learners[policy_id]
        if copy_weights_from is not None:
            learner.adopt_weights(self.learners[copy_weights_from].actor_critic.state_dict())
        learner.set_hyperparameters(settings.hyperparameters)
        if settings.reward_shaping is not None:
            self.reward_shaping[policy_id] = settings.reward_shaping
            self.shape_rows(i for i, pid in enumerate(self.policy_of_agent) if pid == policy_id)
        return int(learner.policy_version)

    def shape_rows(self, rows: Iterable[int]) -> None:
        """Set on each of these agent rows the reward shaping of the policy that now controls it."""
        for row in rows:
            scheme = self.reward_shaping.get(int(self.policy_of_agent[row]))
            if scheme is not None:
                self.env_vector.set_reward_shaping(scheme, int(row))

    def policy_version(self, policy_id: int) -> int:
        return int(self.learners[policy_id].policy_version)
