"""Per-episode statistics: undiscounted return, length in agent steps, the env's ``episode_extra_stats``, and its
``true_objective`` (what PBT ranks policies by, when the env reports one besides its shaped reward)."""

from __future__ import annotations

from typing import Any

EXTRA_STATS_KEY = "episode_extra_stats"
TRUE_OBJECTIVE_KEY = "true_objective"


def episode_record(reward: float, length: int, info: Any, policy_agent: int) -> dict[str, Any]:
    """Builds the ``info["episode"]`` dict of an episode that just ended.

    Args:
        reward: sum of the raw rewards of the episode.
        length: number of agent steps (``step()`` calls) in the episode; env frames are ``length * env_frameskip``.
        info: the info dict of the last step; its ``"episode_extra_stats"`` (a dict of numbers), if any, is merged in,
            and its ``"true_objective"`` number, if any, kept under that name.
        policy_agent: index of the agent in the env vector (in the env, for a single env).

    Returns:
        ``{"reward": float, "length": int, "policy_agent": int, **episode_extra_stats}``; the three named keys win over
        extra stats of the same name.
    """
    record: dict[str, Any] = {}
    if info:
        extra = info.get(EXTRA_STATS_KEY)
        if extra:
            record.update(extra)
        true_objective = info.get(TRUE_OBJECTIVE_KEY)
        if isinstance(true_objective, int | float) and not isinstance(true_objective, bool):
            record[TRUE_OBJECTIVE_KEY] = float(true_objective)
        recorded = info.get("episode")  # gymnasium's RecordEpisodeStatistics (use_record_episode_statistics)
        if isinstance(recorded, dict) and "r" in recorded and "l" in recorded:
            reward, length = float(recorded["r"]), int(recorded["l"])
    record["reward"] = float(reward)
    record["length"] = int(length)
    record["policy_agent"] = policy_agent
    return record
