"""Several policies trained together: how envs and agents map to policies, per-policy outputs, inactive agents, bad
input, and parallel multi-policy runs that leave nothing behind.

The learning tests (coordination and self-play reaching near-optimal play) are in test_multi_policy_learning.py.
"""

from __future__ import annotations

import re
import signal
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from sf_config import make_cfg
from sf_registry import register_env
from sf_runtime import enjoy, run_rl
from sf_runtime.envs import make_env_vector
from sf_runtime.learning import Learner
from sf_runtime.runners.policy_mapping import RESAMPLE_EVERY_EPISODES, PolicyMapping, initial_policies
from sf_runtime.runners.serial_rollouts import SerialRolloutCollector
from sf_runtime.storage import CheckpointManager

sys.path.insert(0, str(Path(__file__).parent))
from multi_policy_helpers import game_cfg, summary_scalars

torch.set_num_threads(1)

# The example games with 2 envs of 2 agents, short rollouts: one training batch per collection round.
SMALL = dict(num_envs_per_worker=2, rollout=8, batch_size=32, num_batches_per_epoch=1, num_epochs=1)


# ---- the mapping ----------------------------------------------------------------------------------------------------


def test_sync_mapping_is_the_env_or_agent_index_modulo_num_policies():
    by_env = make_cfg(num_policies=3, num_workers=2, num_envs_per_worker=4, pbt_mix_policies_in_one_env=False)
    assert initial_policies(by_env, 1, 0, 4).tolist() == [0, 1, 2, 0]
    assert initial_policies(by_env, 2, 4, 2).tolist() == [1, 1, 2, 2]  # envs 4 and 5, two agents each
    by_agent = make_cfg(num_policies=3, num_workers=2, num_envs_per_worker=4, pbt_mix_policies_in_one_env=True)
    assert initial_policies(by_agent, 2, 4, 2).tolist() == [2, 0, 1, 2]  # agents 8..11
    assert initial_policies(by_agent, 1, 0, 4).tolist() == [0, 1, 2, 0]  # one agent per env: by env


def test_sync_mapping_never_changes():
    mapping = PolicyMapping(make_cfg(num_policies=2, async_rl=False), 2, 0, 4)
    before = mapping.policy_of_row.copy()
    mapping.episodes_ended(list(range(8)) * 100)
    assert mapping.redraw() is None and np.array_equal(mapping.policy_of_row, before)


@pytest.mark.parametrize("mix", [False, True])
def test_async_mapping_is_redrawn_at_random_every_few_episodes(mix):
    cfg = make_cfg(num_policies=2, async_rl=True, seed=3, pbt_mix_policies_in_one_env=mix)
    mapping = PolicyMapping(cfg, 2, 0, 4)
    first = mapping.policy_of_row.copy()
    mapping.episodes_ended([0, 1] * (RESAMPLE_EVERY_EPISODES - 1))  # env 0: one episode short of a redraw
    assert mapping.redraw() is None
    seen_env0 = set()
    for _ in range(40):
        mapping.episodes_ended([0, 1] * RESAMPLE_EVERY_EPISODES)
        mapping.redraw()
        rows = mapping.policy_of_row
        assert np.array_equal(rows[2:], first[2:])  # the other envs were not due
        seen_env0.add((int(rows[0]), int(rows[1])))
    if mix:
        assert {(0, 1), (1, 0)} & seen_env0  # agents of one env on different policies
    else:
        assert seen_env0 == {(0, 0), (1, 1)}  # both agents of an env always on the same policy, both policies drawn


# ---- inactive agents -----------------------------------------------------------------------------------------------


class HalfActive(gym.Env):
    """Two agents; agent 1 is inactive (``is_active=False``) on every other step."""

    is_multiagent = True
    num_agents = 2

    def __init__(self, render_mode=None):
        self.observation_space = spaces.Box(0.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return [np.zeros(2, np.float32)] * 2, [{}, {}]

    def step(self, actions):
        self.t += 1
        infos = [{}, {"is_active": self.t % 2 == 0}]
        done = self.t >= 6
        return [np.zeros(2, np.float32)] * 2, [1.0, 1.0], [done, done], [False, False], infos


def test_inactive_agents_produce_no_training_samples():
    register_env("test_half_active", lambda name, cfg=None, env_config=None, render_mode=None: HalfActive())
    cfg = make_cfg(env="test_half_active", num_policies=2, encoder_mlp_layers=[8], use_rnn=False, device="cpu")
    vec = make_env_vector(cfg, 0, 0, 2, batched=False)
    learners = {pid: Learner(cfg, vec.observation_space, vec.action_space, policy_id=pid) for pid in (0, 1)}
    collector = SerialRolloutCollector(
        vec, {pid: ln.actor_critic for pid, ln in learners.items()}, lambda pid: 0, [0, 1, 0, 1], 6, torch.device("cpu")
    )
    try:
        trajectories, _ = collector.collect()
    finally:
        vec.close()
    assert trajectories[0]["valids"].all()  # agent 0 of both envs
    inactive_steps = torch.tensor([True, False] * 3)  # steps 1, 3, 5: agent 1 said is_active=False
    assert torch.equal(trajectories[1]["valids"], (~inactive_steps).expand(2, 6))


# ---- bad input -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mix", "num_policies", "message"),
    [
        (False, 2, "num_policies=2 is more than the 1 env of the run"),
        (True, 3, "num_policies=3 is more than the 2 agents (1 env x 2) of the run"),
    ],
)
def test_more_policies_than_envs_or_agents_is_refused_before_start(tmp_path, caplog, mix, num_policies, message):
    cfg = game_cfg(
        tmp_path,
        "matching_game",
        "too_many",
        num_envs_per_worker=1,
        num_policies=num_policies,
        pbt_mix_policies_in_one_env=mix,
    )
    assert run_rl(cfg) == 1
    assert message in caplog.text and f"Accepted: num_policies from 1 to {num_policies - 1}" in caplog.text
    assert not (tmp_path / "too_many").exists()


def test_parallel_runner_refuses_more_policies_than_envs_before_start(tmp_path, caplog, leftovers):
    cfg = make_cfg(
        env="CartPole-v1", num_workers=2, num_envs_per_worker=2, num_policies=5, experiment="too_many",
        train_dir=str(tmp_path), device="cpu",
    )  # fmt: skip
    assert run_rl(cfg) == 1
    assert "num_policies=5 is more than the 4 envs of the run (num_workers=2 x num_envs_per_worker=2)" in caplog.text
    assert not (tmp_path / "too_many").exists()
    assert leftovers() == ([], set())


def test_parallel_sync_round_too_small_for_the_minibatches_is_refused_before_start(tmp_path, caplog, leftovers):
    cfg = game_cfg(
        tmp_path, "matching_game", "small_rounds", serial_mode=False, async_rl=False, num_workers=1,
        num_envs_per_worker=2, worker_num_splits=1, num_batches_per_epoch=4, rollout=8, use_rnn=True, recurrence=8,
    )  # fmt: skip
    assert run_rl(cfg) == 1
    assert "sync mode: policy 0 trains on one rollout of its 2 agent(s) at a time, 2 chunk(s)" in caplog.text
    assert "Accepted: num_batches_per_epoch from 1 to 2" in caplog.text
    assert not (tmp_path / "small_rounds").exists()
    assert leftovers() == ([], set())


# ---- per-policy outputs of the serial runner, and enjoy --policy_index -----------------------------------------------


def test_sync_mode_maps_each_agent_to_its_policy_and_keeps_outputs_per_policy(tmp_path, caplog):
    cfg = game_cfg(tmp_path, "matching_game", "sync2", async_rl=False, train_for_env_steps=1600, **SMALL)
    assert run_rl(cfg) == 0
    for pid in (0, 1):
        state = CheckpointManager(cfg, pid).load()
        assert state["env_steps"] >= 1600 and state["policy_version"] > 0
        assert state["learner"]["policy_id"] == pid
        tags = summary_scalars(cfg, pid)
        # sync, agents mapped one by one: agent i of every env is policy i's (agent index mod 2)
        assert f"episode/agent{pid}/reward" in tags and f"episode/agent{1 - pid}/reward" not in tags
        assert "episode/reward" in tags and "train/loss" in tags
    assert "p0 FPS" in caplog.text and "p1 FPS" in caplog.text  # the console line names each policy's FPS

    for pid in (0, 1):
        caplog.clear()
        result = enjoy(
            make_cfg(evaluation=True, env="matching_game", experiment="sync2", train_dir=str(tmp_path),
                     policy_index=pid, no_render=True, max_num_episodes=2, device="cpu")
        )  # fmt: skip
        assert result == 0 and f"Loaded the latest checkpoint of policy {pid}" in caplog.text
    caplog.clear()
    out_of_range = make_cfg(
        evaluation=True,
        env="matching_game",
        experiment="sync2",
        train_dir=str(tmp_path),
        policy_index=2,
        no_render=True,
        device="cpu",
    )  # fmt: skip (num_policies=2 comes from the experiment's config.json)
    assert enjoy(out_of_range) == 1
    assert "policy_index (2) must be below num_policies (2); accepted: 0..1" in caplog.text


def test_async_mode_redraws_which_agents_a_policy_controls(tmp_path):
    cfg = game_cfg(tmp_path, "matching_game", "async2", async_rl=True, train_for_env_steps=3200, **SMALL)
    assert run_rl(cfg) == 0
    for pid in (0, 1):
        tags = summary_scalars(cfg, pid)
        assert CheckpointManager(cfg, pid).load()["env_steps"] >= 3200
        # redrawn every few episodes: each policy played both seats
        assert "episode/agent0/reward" in tags and "episode/agent1/reward" in tags


@pytest.mark.parametrize("async_rl", [False, True], ids=["sync", "async"])
def test_batched_sampling_of_a_native_vector_env_trains_both_policies(tmp_path, async_rl):
    cfg = make_cfg(
        env="CartPole-v1", serial_mode=True, batched_sampling=True, num_policies=2, async_rl=async_rl,
        num_envs_per_worker=4, rollout=8, batch_size=16, num_epochs=1, encoder_mlp_layers=[8], use_rnn=False,
        device="cpu", seed=0, experiment="batched", train_dir=str(tmp_path), train_for_env_steps=400,
    )  # fmt: skip
    assert run_rl(cfg) == 0
    for pid in (0, 1):
        state = CheckpointManager(cfg, pid).load()
        assert state["env_steps"] >= 400 and state["policy_version"] > 0
        assert "episode/reward" in summary_scalars(cfg, pid)


# ---- parallel runs -------------------------------------------------------------------------------------------------

PARALLEL = dict(
    serial_mode=False, num_workers=2, num_envs_per_worker=2, worker_num_splits=1, rollout=8, batch_size=32,
    num_epochs=1, heartbeat_interval=1, heartbeat_reporting_interval=20, decorrelate_experience_max_seconds=0,
)  # fmt: skip


def test_parallel_sync_run_trains_every_policy_and_leaves_nothing_behind(tmp_path, leftovers):
    cfg = game_cfg(
        tmp_path,
        "matching_game",
        "par_sync",
        async_rl=False,
        batched_sampling=True,
        train_for_env_steps=1500,
        **PARALLEL,
    )  # fmt: skip (batched: the registered game falls back to the loop vector, stepped as one batch)
    assert run_rl(cfg) == 0
    for pid in (0, 1):
        state = CheckpointManager(cfg, pid).load()
        assert state["env_steps"] >= 1500 and state["policy_version"] > 0
        tags = summary_scalars(cfg, pid)
        assert f"episode/agent{pid}/reward" in tags and f"episode/agent{1 - pid}/reward" not in tags
    assert leftovers() == ([], set())


def test_parallel_async_multi_policy_run_interrupted_saves_every_policy_and_leaves_nothing(tmp_path, training_process):
    module = tmp_path / "register_games.py"
    module.write_text(
        "from sf_examples.self_play.train_self_play import register_self_play_envs\nregister_self_play_envs()\n"
    )
    cfg = dict(
        env="matching_game", num_policies=2, async_rl=True, device="cpu", seed=1, encoder_mlp_layers=[16],
        use_rnn=False, train_for_env_steps=10**9, **PARALLEL,
    )  # fmt: skip
    run = training_process("par_async", cfg, env_module=module)
    run.wait_for("Fps is")
    deadline = time.monotonic() + 240
    both_trained = re.compile(r"p0: FPS[^\n]*?policy lag[^\n]*p1: FPS[^\n]*policy lag")  # a lag: it trained
    while not both_trained.search(run.output()) and time.monotonic() < deadline and run.proc.poll() is None:
        time.sleep(0.2)
    assert both_trained.search(run.output()), run.output()
    run.send(signal.SIGINT)
    assert run.wait() == 2, run.output()
    run.assert_clean()
    for pid in (0, 1):
        _cfg, state = run.load_experiment(pid)
        assert state is not None and state["env_steps"] > 0, run.output()
