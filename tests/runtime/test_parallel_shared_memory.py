"""Building blocks of the parallel runner: shared arrays, weight slots, trajectory layout, rate windows."""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import pytest
import torch

from sf_config import make_cfg
from sf_runtime.model import create_actor_critic
from sf_runtime.runners.parallel.context import policy_of_rows
from sf_runtime.runners.parallel.health import LagStats, RateWindows
from sf_runtime.runners.parallel.reports import PolicyLag
from sf_runtime.runners.parallel.shared_memory import SharedArena, SharedArray
from sf_runtime.runners.parallel.trajectories import (
    StepFormat,
    TrajectoryBuffers,
    TrajectoryLayout,
    allocate_trajectories,
)
from sf_runtime.runners.parallel.weights import WeightSlot

torch.set_num_threads(1)


@pytest.fixture
def arena():
    arena = SharedArena()
    yield arena
    arena.unlink_all()


def test_arrays_are_shared_by_name_and_unlinked(arena):
    array = arena.create((3, 4), "float32")
    assert array.spec.name.startswith("sf_")
    assert arena.leftover_segments() == [array.spec.name]

    other = SharedArray(array.spec)  # what a child process does
    other.numpy[1, 2] = 7.0
    assert array.tensor[1, 2].item() == 7.0

    arena.unlink_all()
    assert arena.leftover_segments() == []
    assert not os.path.exists(f"/dev/shm/{array.spec.name}")
    array.numpy[0, 0] = 1.0  # the mapping outlives the name
    assert other.numpy[0, 0] == 1.0
    with pytest.raises(RuntimeError, match="already unlinked"):
        arena.create((1,), "int64")


def _model():
    cfg = make_cfg(env="CartPole-v1", use_rnn=False, encoder_mlp_layers=[8])
    obs_space = gym.spaces.Dict({"obs": gym.spaces.Box(-5.0, 5.0, (4,), np.float32)})
    return create_actor_critic(cfg, obs_space, gym.spaces.Discrete(2))


def test_weight_slot_publishes_weights_and_normalizer_state(arena):
    learner_model, reader_model = _model(), _model()
    obs = {"obs": torch.randn(64, 4) * 3 + 1}
    learner_model.obs_normalizer.update(obs)  # moves the running mean/std (and their float32 caches)
    with torch.no_grad():
        for p in learner_model.parameters():
            p.add_(0.1)
    slot = WeightSlot.allocate(arena, learner_model)
    assert slot.version == -1

    slot.publish(learner_model, 3)
    reader = WeightSlot(slot.handle)  # as mapped in an inference worker
    assert reader.pull(reader_model, have_version=-1) == 3
    assert reader.pull(reader_model, have_version=3) == 3  # no new version: nothing to do

    rnn = torch.zeros(64, 1)
    with torch.no_grad():
        expected = learner_model(learner_model.normalize_obs(obs), rnn)["action_logits"]
        got = reader_model(reader_model.normalize_obs(obs), rnn)["action_logits"]
    torch.testing.assert_close(got, expected)


def test_trajectory_slots_do_not_overlap_and_gather_whole_trajectories(arena):
    layout = TrajectoryLayout(num_workers=2, num_splits=2, rows_per_split=3, buffers_per_split=2, rollout=4)
    bases = {layout.slot_base(w, s, k) for w in range(2) for s in range(2) for k in range(2)}
    assert sorted(bases) == list(range(0, layout.num_rows, 3))

    obs_space = gym.spaces.Dict({"obs": gym.spaces.Box(0, 255, (2, 2), np.uint8)})
    specs = allocate_trajectories(arena, layout, obs_space, StepFormat(((), "int64"), 2, 1))
    buffers = TrajectoryBuffers(specs)
    rows = np.arange(layout.slot_base(1, 0, 1), layout.slot_base(1, 0, 1) + 3)
    buffers.np["obs/obs"][rows] = 9
    buffers.np["rewards"][rows, 2] = 1.5
    buffers.np["valids"][rows] = True

    batch = buffers.gather_batch(torch.from_numpy(rows))
    assert batch["obs"]["obs"].shape == (3, 5, 2, 2) and batch["obs"]["obs"].dtype == torch.uint8
    assert bool((batch["obs"]["obs"] == 9).all())
    assert batch["rewards"].shape == (3, 4) and batch["rewards"][:, 2].tolist() == [1.5] * 3
    assert batch["rnn_states"].shape == (3, 5, 1) and batch["values"].shape == (3, 5)
    assert batch["actions"].shape == (3, 4) and batch["valids"].all()


def test_agents_are_spread_over_policies():
    cfg = make_cfg(env="CartPole-v1", num_policies=2, num_envs_per_worker=4, worker_num_splits=2)
    assert policy_of_rows(cfg, num_agents=1, worker=0, split=0).tolist() == [0, 1]
    assert policy_of_rows(cfg, num_agents=2, worker=1, split=1).tolist() == [0, 1, 0, 1]
    single = make_cfg(env="CartPole-v1", num_envs_per_worker=4, worker_num_splits=2)
    assert policy_of_rows(single, num_agents=1, worker=1, split=1).tolist() == [0, 0]


def test_rate_windows_and_lag_stats():
    rates = RateWindows(windows=(10, 60))
    rates.add(0, now=rates._history[0][0])
    start = rates._history[0][0]
    rates.add(1000, now=start + 50)
    rates.add(1000, now=start + 100)
    assert rates.rate(10, now=start + 100) == pytest.approx(1000 / 50)
    assert rates.rate(60, now=start + 100) == pytest.approx(1000 / 50)
    assert rates.total == 2000

    lag = LagStats()
    lag.add(PolicyLag(0, 10.0, 4, 5))
    lag.add(PolicyLag(1, 2.0, 2, 5))
    assert lag.summary() == (0, 1.2, 4)
    lag.reset()
    assert lag.summary() is None
    assert (lag.run_min, lag.run_max) == (0, 4)
