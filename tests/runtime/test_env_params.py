"""Env and evaluation parameters: pixel_format, use_record_episode_statistics, episode_counter,
decorrelate_envs_on_one_worker, env_framestack, sample_env_episodes and csv_folder_name."""

from __future__ import annotations

import csv

import gymnasium as gym
import numpy as np
import pytest
import torch

from sf_config import make_cfg
from sf_registry import register_env
from sf_runtime import enjoy, run_rl
from sf_runtime.envs import create_env
from sf_runtime.envs.create import _apply_env_parameters
from sf_runtime.envs.episode_stats import episode_record
from sf_runtime.envs.wrappers import DecorrelatingReset
from sf_runtime.errors import SetupError

torch.set_num_threads(1)


class HwcEnv(gym.Env):
    observation_space = gym.spaces.Box(0, 255, (6, 5, 3), np.uint8)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        return np.arange(90, dtype=np.uint8).reshape(6, 5, 3), {}

    def step(self, action):
        return self.reset()[0], 1.0, True, False, {}


class EnvConfig:
    def __init__(self, vector_index):
        self.vector_index = vector_index


def test_pixel_format_hwc_transposes_images():
    env = _apply_env_parameters(HwcEnv(), make_cfg(pixel_format="HWC"), None, 0)
    obs, _ = env.reset()
    assert env.observation_space.shape == obs.shape == (3, 6, 5)
    assert np.array_equal(obs, np.moveaxis(HwcEnv().reset()[0], -1, 0))
    assert _apply_env_parameters(HwcEnv(), make_cfg(), None, 0).observation_space.shape == (6, 5, 3)


def test_record_episode_statistics_and_episode_counter():
    cfg = make_cfg(use_record_episode_statistics=True, episode_counter=True, decorrelate_envs_on_one_worker=False)
    env = _apply_env_parameters(HwcEnv(), cfg, None, 0)
    env.reset()
    records = []
    for _ in range(2):
        _, _, _, _, info = env.step(0)
        records.append(episode_record(123.0, 7, info, 0))  # the wrapper's figures win over the runtime's count
        env.reset()
    assert [(r["reward"], r["length"], r["episode_number"]) for r in records] == [(1.0, 1, 0), (1.0, 1, 1)]


def test_decorrelation_staggers_the_envs_of_one_worker():
    cfg = make_cfg(env="CartPole-v1", seed=1)
    steps = []
    for index in range(4):
        env = _apply_env_parameters(gym.make("CartPole-v1"), cfg, EnvConfig(index), index, decorrelate=True)
        env.reset(seed=index)
        steps.append(env.random_steps if isinstance(env, DecorrelatingReset) else 0)
        assert all(0 <= s <= i * DecorrelatingReset.STEPS_PER_INDEX for i, s in enumerate(steps))
    assert steps[0] == 0 and len(set(steps[1:])) > 1
    assert not isinstance(_apply_env_parameters(gym.make("CartPole-v1"), cfg, EnvConfig(3), 0), DecorrelatingReset)


def test_enjoy_writes_sample_env_episodes_rows_to_csv_folder(tmp_path):
    common = dict(env="CartPole-v1", experiment="tiny", train_dir=str(tmp_path), device="cpu")
    train = make_cfg(
        **common,
        serial_mode=True,
        num_workers=1,
        num_envs_per_worker=2,
        worker_num_splits=1,
        rollout=16,
        batch_size=32,
        encoder_mlp_layers=[8],
        use_rnn=False,
        train_for_env_steps=64,
    )
    assert run_rl(train) == 0
    folder = tmp_path / "csv"
    cfg = make_cfg(
        **common,
        evaluation=True,
        no_render=True,
        csv_folder_name=str(folder),
        sample_env_episodes=3,
        episode_counter=True,
    )
    assert enjoy(cfg) == 0
    with (folder / "tiny_p0.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["episode"]) for r in rows] == [1, 2, 3]
    assert all(float(r["reward"]) > 0 and int(r["length"]) > 0 for r in rows)
    assert [int(r["episode_number"]) for r in rows] == [0, 1, 2]


def test_record_episode_statistics_is_not_added_twice():
    """Sample Factory's Atari example wraps its envs in RecordEpisodeStatistics itself and sets the flag too."""
    cfg = make_cfg(use_record_episode_statistics=True)
    env = _apply_env_parameters(gym.wrappers.RecordEpisodeStatistics(HwcEnv()), cfg, None, 0)
    wrappers = []
    while isinstance(env, gym.Wrapper):
        wrappers.append(type(env))
        env = env.env
    assert wrappers.count(gym.wrappers.RecordEpisodeStatistics) == 1


def make_env_ignoring_framestack(full_env_name, cfg=None, env_config=None, render_mode=None):
    return gym.make("CartPole-v1")


def make_env_reading_framestack(full_env_name, cfg=None, env_config=None, render_mode=None):
    return gym.wrappers.FrameStackObservation(gym.make("CartPole-v1"), cfg["env_framestack"])


register_env("sf_test_framestack_ignored", make_env_ignoring_framestack)
register_env("sf_test_framestack_read", make_env_reading_framestack)


def test_env_framestack_is_refused_where_the_env_would_ignore_it():
    with pytest.raises(
        SetupError, match=r"env_framestack=4 would be ignored by env 'sf_test_framestack_ignored': its "
    ):
        create_env("sf_test_framestack_ignored", make_cfg(env="sf_test_framestack_ignored", env_framestack=4))
    with pytest.raises(SetupError, match=r"'CartPole-v1': it is a plain gymnasium id"):
        create_env("CartPole-v1", make_cfg(env="CartPole-v1", env_framestack=3))
    # read by the factory (here by key): frames are stacked; and at 1 nothing needs to read it
    env = create_env("sf_test_framestack_read", make_cfg(env="sf_test_framestack_read", env_framestack=4))
    assert env.observation_space["obs"].shape == (4, 4)
    create_env("sf_test_framestack_ignored", make_cfg(env="sf_test_framestack_ignored"))


@pytest.mark.parametrize("serial_mode", [True, False], ids=["serial", "parallel"])
def test_a_run_with_an_ignored_env_framestack_fails_before_it_makes_the_experiment(tmp_path, caplog, serial_mode):
    cfg = make_cfg(
        env="CartPole-v1",
        env_framestack=4,
        serial_mode=serial_mode,
        train_dir=str(tmp_path),
        experiment="stacked",
        num_workers=2,
        num_envs_per_worker=2,
    )
    assert run_rl(cfg) == 1
    assert "env_framestack=4 would be ignored by env 'CartPole-v1'" in caplog.text
    assert not (tmp_path / "stacked").exists()
