"""Two policies that learn together (slow): coordination in a cooperative two-agent game, and self-play in a
competitive one.

- ``matching_game``: both agents score only when their actions add up to the cue, so the two policies must settle on
  one convention. Random play scores 8/3 = 2.7 per episode, the optimum is 8; both policies must reach 7.2 (90%), with
  the parallel runner in async mode (mapping redrawn at random) and in sync mode (agent i on policy i).
- ``target_duel``: zero-sum, the agent closer to the target wins the step. The two policies train against each other
  (their training rewards stay near 0); afterwards each plays a frozen uniformly random opponent and must average at
  least 4 per episode (random against random: 0; always on target: 6.4).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from multi_policy_helpers import game_cfg, random_score, score_against_random, summary_scalars

from sf_runtime import run_rl
from sf_runtime.storage import CheckpointManager

pytestmark = pytest.mark.slow
torch.set_num_threads(1)

COORDINATION_THRESHOLD = 7.2


@pytest.mark.parametrize("async_rl", [True, False], ids=["async", "sync"])
def test_two_policies_learn_to_coordinate(tmp_path, async_rl, leftovers):
    cfg = game_cfg(
        tmp_path, "matching_game", "coordination", serial_mode=False, async_rl=async_rl, num_workers=2,
        num_envs_per_worker=4, train_for_env_steps=150_000, stats_avg=200,
    )  # fmt: skip
    baseline = random_score("matching_game", cfg)
    assert baseline < 3.5
    assert run_rl(cfg) == 0
    for pid in (0, 1):
        state = CheckpointManager(cfg, pid).load()
        assert state["env_steps"] >= 150_000 and state["policy_version"] > 0  # it received experience and trained
        rewards = summary_scalars(cfg, pid)["episode/reward"]
        print(f"policy {pid}: first {rewards[0]:.2f}, last {rewards[-1]:.2f} (random play {baseline:.2f})")
        assert rewards[-1] >= COORDINATION_THRESHOLD
    assert leftovers() == ([], set())


def test_self_play_both_policies_beat_a_random_opponent(tmp_path):
    cfg = game_cfg(tmp_path, "target_duel", "duel", async_rl=True, train_for_env_steps=60_000)
    baseline = random_score("target_duel", cfg)
    assert abs(baseline) < 1.0  # random against random: 0 up to noise
    assert run_rl(cfg) == 0
    for pid in (0, 1):
        score = score_against_random(cfg, pid)
        print(f"policy {pid} against a random opponent: {score:.2f} per episode (random vs random {baseline:.2f})")
        assert score >= 4.0
        tags = summary_scalars(cfg, pid)  # per policy, with the per-agent episode rewards
        assert {"episode/reward", "episode/agent0/reward", "episode/agent1/reward", "train/loss"} <= set(tags)
    assert (
        CheckpointManager(cfg, 0).load()["env_steps"] >= 60_000
        and CheckpointManager(cfg, 1).load()["env_steps"] >= 60_000
    )
