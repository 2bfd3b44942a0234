"""The spec's template ported to sf's API: trains the image env past what a random policy can score, then enjoys it."""

import pytest

from sf_examples.custom_env import enjoy_custom_env, train_custom_env
from sf_registry import make_env

EPISODE = 16  # steps per episode; a random policy averages 8


def test_the_env_rewards_naming_the_lit_side():
    train_custom_env.register_custom_env_envs()
    env = make_env(train_custom_env.ENV_NAME)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (1, 42, 42)
    lit_right = int(obs[0, :, 21:].mean() > obs[0, :, :21].mean())
    _, reward, terminated, truncated, _ = env.step(lit_right)
    assert reward == 1.0 and not terminated and not truncated


def test_hooks_apply_the_template_defaults_and_the_custom_argument(tmp_path):
    cfg = train_custom_env.parse_args(["--env=custom_env_name", "--custom_episode_length=5", f"--train_dir={tmp_path}"])
    assert cfg.encoder_conv_architecture == "convnet_atari" and cfg.obs_scale == 255.0
    assert cfg.source_of("learning_rate") == "env" and cfg.custom_episode_length == 5
    with pytest.raises(ValueError, match="custom_episode_length must be >= 1, got 0"):
        train_custom_env.make_custom_env(
            "custom_env_name", cfg=train_custom_env.parse_args(["--env=x", "--custom_episode_length=0"])
        )


@pytest.mark.slow
def test_train_then_enjoy(tmp_path, train_to_reward):
    train_custom_env.register_custom_env_envs()
    names = ["--env=custom_env_name", "--experiment=CustomEnv", f"--train_dir={tmp_path}", "--device=cpu"]
    short = [
        "--serial_mode=True",
        "--num_workers=1",
        "--num_envs_per_worker=8",
        "--worker_num_splits=1",
        "--rollout=16",
        "--batch_size=128",
        "--stats_avg=50",
        "--train_for_env_steps=16000",
        "--seed=1",
    ]
    train_to_reward(train_custom_env.parse_args([*names, *short]), 15.0)  # of EPISODE steps

    evaluation = ["--no_render", "--max_num_episodes=10", "--eval_deterministic=True"]
    status, avg_reward = enjoy_custom_env.main([*names, *evaluation])
    print(f"CustomEnv: enjoy average {avg_reward:.2f}")
    assert status == 0 and avg_reward >= 15.0
