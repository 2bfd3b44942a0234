"""MuJoCo through gymnasium's v5 envs: the four robots, the defaults, and HalfCheetah end to end."""

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


@pytest.mark.slow
def test_halfcheetah_trains_end_to_end_then_enjoys(train_briefly_then_enjoy):
    saved, _avg_reward = train_briefly_then_enjoy(
        train_mujoco.main,
        enjoy_mujoco.main,
        "mujoco_halfcheetah",
        "--rollout=64",
        "--num_epochs=2",
        enjoy_args=["--max_num_episodes=1"],
    )
    assert saved["env"] == "mujoco_halfcheetah" and saved["normalize_input"] is True
