"""Which policy controls which agent in a run with several policies (``num_policies > 1``).

Agents are rows, env by env (``row = env * num_agents + agent``), as in the env vectors and the trajectory slots.

- **Unit**: each env is controlled by one policy (all its agents), or, with ``pbt_mix_policies_in_one_env`` and a
  multi-agent env, each agent by a policy of its own (self-play: agents of one env on different policies).
- **Start, and sync mode throughout**: deterministic, the unit's global index modulo ``num_policies`` (global env
  index ``worker * num_envs_per_worker + env``, or global agent index when mixing). Every policy has experience from
  the first rollout on, and a sync learner knows which rollouts it waits for.
- **Async mode**: once an env has finished :data:`RESAMPLE_EVERY_EPISODES` episodes (per agent) since its policies
  were last drawn, they are drawn again, uniformly at random (per agent when mixing), at the env vector's next
  rollout boundary. A rollout is never split between policies: the trajectory collected so far stays with the old
  policy, and an agent whose policy changed starts the new rollout with a zero recurrent state.

:func:`check_policy_count` refuses, before a run starts, a ``num_policies`` that some policy could never serve in;
:func:`check_sync_rounds` a parallel sync run whose learners' rounds are too small for ``num_batches_per_epoch``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from sf_runtime.errors import SetupError

__all__ = [
    "RESAMPLE_EVERY_EPISODES",
    "PolicyMapping",
    "check_policy_count",
    "check_sync_rounds",
    "initial_policies",
    "mixes_agents",
]

RESAMPLE_EVERY_EPISODES = 5
"""Async mode: episodes an env finishes between two random draws of its policies."""


def mixes_agents(cfg: Any, num_agents: int) -> bool:
    """True when agents of one env are mapped one by one (``pbt_mix_policies_in_one_env`` and several agents)."""
    return int(num_agents) > 1 and bool(cfg.pbt_mix_policies_in_one_env)


def check_policy_count(cfg: Any, num_agents: int) -> None:
    """Refuse a ``num_policies`` larger than the units (envs, or agents when mixing) that policies are mapped to.

    Raises:
        SetupError: naming the value, what the run has, and what is accepted.
    """
    num_policies = int(cfg.num_policies)
    num_envs = int(cfg.num_workers) * int(cfg.num_envs_per_worker)
    envs = f"{num_envs} env{'s' if num_envs != 1 else ''}"
    if mixes_agents(cfg, num_agents):
        units, what = num_envs * int(num_agents), f"{num_envs * num_agents} agents ({envs} x {num_agents})"
        how = "pbt_mix_policies_in_one_env=True: each agent is controlled by one policy"
    else:
        units, what = num_envs, envs
        how = (
            "each env is controlled by one policy"
            if num_agents == 1
            else "pbt_mix_policies_in_one_env=False: all agents of an env are controlled by the same policy"
        )
    if num_policies <= units:
        return
    raise SetupError(
        f"num_policies={num_policies} is more than the {what} of the run (num_workers={cfg.num_workers} x "
        f"num_envs_per_worker={cfg.num_envs_per_worker}); {how}, so some policy would never get experience. "
        f"Accepted: num_policies from 1 to {units}, or more envs"
    )


def check_sync_rounds(cfg: Any, num_agents: int) -> None:
    """Sync mode of the parallel runner: each learner trains on one rollout of each of its agents at a time, so that
    round must hold at least ``num_batches_per_epoch`` chunks of ``recurrence`` steps for every policy.

    Raises:
        SetupError: naming the policy, what its round holds, and what is accepted.
    """
    if cfg.async_rl:
        return
    num_envs = int(cfg.num_workers) * int(cfg.num_envs_per_worker)
    rows = initial_policies(cfg, num_agents, 0, num_envs)
    chunks_per_rollout = int(cfg.rollout) // int(cfg.recurrence)
    for pid in range(int(cfg.num_policies)):
        chunks = int((rows == pid).sum()) * chunks_per_rollout
        if chunks < int(cfg.num_batches_per_epoch):
            raise SetupError(
                f"sync mode: policy {pid} trains on one rollout of its {int((rows == pid).sum())} agent(s) at a time, "
                f"{chunks} chunk(s) of recurrence={cfg.recurrence} steps, fewer than num_batches_per_epoch="
                f"{cfg.num_batches_per_epoch}. Accepted: num_batches_per_epoch from 1 to {chunks}, or more envs, "
                "fewer policies, or async_rl=True"
            )


def initial_policies(cfg: Any, num_agents: int, first_env: int, num_envs: int) -> np.ndarray:
    """The deterministic mapping (see the module doc) of the rows of ``num_envs`` envs from global env ``first_env``.

    Returns:
        int64 array of ``num_envs * num_agents`` policy ids.
    """
    num_agents = int(num_agents)
    num_policies = int(cfg.num_policies)
    rows = np.arange(num_envs * num_agents, dtype=np.int64) + int(first_env) * num_agents
    if mixes_agents(cfg, num_agents):
        return rows % num_policies
    return (rows // num_agents) % num_policies


class PolicyMapping:
    """The policy of every row of one env vector, redrawn in async mode as the module doc says.

    Args:
        cfg: the run's configuration (``num_policies``, ``async_rl``, ``pbt_mix_policies_in_one_env``, ``seed``).
        num_agents: agents per env.
        first_env: global index of the vector's first env.
        num_envs: envs in the vector.

    Attributes:
        policy_of_row: int64 array, the current policy of each row.
        dynamic: whether the mapping is ever redrawn (async mode with several policies).
    """

    def __init__(self, cfg: Any, num_agents: int, first_env: int, num_envs: int) -> None:
        self.num_agents = int(num_agents)
        self.num_policies = int(cfg.num_policies)
        self.mix = mixes_agents(cfg, num_agents)
        self.policy_of_row = initial_policies(cfg, num_agents, first_env, num_envs)
        self.dynamic = bool(cfg.async_rl) and self.num_policies > 1
        seed = cfg.seed
        self._rng = np.random.default_rng(None if seed is None else [int(seed), int(first_env), 7919])
        self._episodes = np.zeros(num_envs, dtype=np.int64)

    @property
    def policies(self) -> list[int]:
        """The policies that control at least one row now, sorted."""
        return sorted({int(p) for p in np.unique(self.policy_of_row)})

    def rows_of(self, policy_id: int) -> np.ndarray:
        """The rows a policy controls now."""
        return np.flatnonzero(self.policy_of_row == policy_id)

    def episodes_ended(self, rows: Iterable[int]) -> None:
        """Count the episodes that ended, by the row of the agent whose episode it was."""
        if self.dynamic:
            for row in rows:
                self._episodes[int(row) // self.num_agents] += 1

    def redraw(self) -> np.ndarray | None:
        """At a rollout boundary: draw new policies for the envs that are due.

        Returns:
            A bool mask of the rows whose policy changed, or None when none did.
        """
        if not self.dynamic:
            return None
        due = np.flatnonzero(self._episodes >= RESAMPLE_EVERY_EPISODES * self.num_agents)
        if len(due) == 0:
            return None
        self._episodes[due] = 0
        old = self.policy_of_row.copy()
        n = self.num_agents
        for env in due.tolist():
            draw = self._rng.integers(self.num_policies, size=n if self.mix else 1)
            self.policy_of_row[env * n : (env + 1) * n] = draw
        changed = old != self.policy_of_row
        return changed if changed.any() else None
