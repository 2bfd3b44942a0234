"""MuJoCo through gymnasium's v5 envs: the four robots, the defaults, and HalfCheetah end to end."""

import json
import math

import pytest

pytest.importorskip("mujoco", reason="mujoco is not installed: pip install 'sf-examples[mujoco]'")

from sf_examples.mujoco import enjoy_mujoco, mujoco_env, train_mujoco
from sf_registry import make_env


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo writes MUJOCO_LOG.TXT into the working directory on model warnings


@pytest.mark.parametrize(
    ("name", "obs_size", "action_size"),
    [("mujoco_halfcheetah", 17, 6), ("mujoco_hopper", 11, 3), ("mujoco_walker", 17, 6), ("mujoco_ant", 105, 8)],
)
def test_robots_are_gymnasiums_v5_envs(name, obs_size, action_size):
    mujoco_env.register_mujoco_envs()
    env = make_env(name)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (obs_size,) and env.action_space.shape == (action_size,)
    assert env.spec.id == mujoco_env.MUJOCO_ENVS[name] and env.spec.max_episode_steps == 1000
    env.close()


def test_defaults_are_continuous_control_ppo():
    cfg = train_mujoco.parse_args(["--env=mujoco_hopper"])
    assert (cfg.num_epochs, cfg.ppo_clip_ratio, cfg.learning_rate, cfg.gamma) == (10, 0.2, 3e-4, 0.99)
    assert cfg.normalize_input and cfg.normalize_returns and cfg.value_bootstrap
    assert not cfg.actor_critic_share_weights and not cfg.adaptive_stddev
    assert cfg.source_of("num_epochs") == "env"


def test_unknown_robot_names_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown MuJoCo env 'mujoco_spider'.*mujoco_ant"):
        mujoco_env.make_mujoco_env("mujoco_spider")


@pytest.mark.slow
def test_halfcheetah_trains_end_to_end_then_enjoys(tmp_path):
    names = ["--env=mujoco_halfcheetah", "--experiment=cheetah", f"--train_dir={tmp_path}", "--device=cpu"]
    short = [
        "--serial_mode=True",
        "--num_workers=1",
        "--num_envs_per_worker=4",
        "--worker_num_splits=1",
        "--rollout=64",
        "--num_epochs=2",
        "--train_for_env_steps=4096",
        "--seed=0",
    ]
    assert train_mujoco.main([*names, *short]) == 0
    experiment = tmp_path / "cheetah"
    saved = json.loads((experiment / "config.json").read_text())
    assert saved["env"] == "mujoco_halfcheetah" and saved["normalize_input"] is True
    assert list((experiment / "checkpoint_p0").glob("checkpoint_*.pth"))

    status, avg_reward = enjoy_mujoco.main([*names, "--no_render", "--max_num_episodes=1"])
    assert status == 0 and math.isfinite(avg_reward)
