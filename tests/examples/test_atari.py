"""Atari Breakout end to end with the real simulator (ale-py): preprocessing, a short training run, evaluation."""

import pytest

ale_py = pytest.importorskip("ale_py", reason="ale-py is not installed: pip install 'sf-examples[atari]'")

from sf_examples.atari import atari_env, enjoy_atari, train_atari  # noqa: E402
from sf_registry import make_env  # noqa: E402


def test_breakout_observations_are_the_standard_preprocessed_frames():
    atari_env.register_atari_envs()
    cfg = train_atari.parse_args(["--env=atari_breakout"])
    env = make_env("atari_breakout", cfg=cfg)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype.name == "uint8"
    assert env.action_space.n == 4  # minimal action set: NOOP, FIRE, RIGHT, LEFT
    rewards = set()
    for _ in range(300):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        rewards.add(reward)
        if terminated or truncated:
            obs, _ = env.reset()
    assert rewards <= {0.0, 1.0}
    env.close()


def test_defaults_are_the_usual_atari_ppo_settings():
    cfg = train_atari.parse_args(["--env=atari_pong", "--learning_rate=1e-4"])
    assert (cfg.rollout, cfg.num_epochs, cfg.num_batches_per_epoch, cfg.batch_size) == (128, 4, 4, 256)
    assert cfg.num_workers * cfg.num_envs_per_worker == 8
    assert cfg.ppo_clip_ratio == 0.1 and cfg.exploration_loss_coeff == 0.01 and cfg.gamma == 0.99
    assert cfg.encoder_conv_architecture == "convnet_atari" and cfg.obs_scale == 255.0
    assert cfg.env_frameskip == 4 and cfg.env_framestack == 4
    assert cfg.learning_rate == 1e-4  # the command line still wins


@pytest.mark.slow
def test_breakout_trains_end_to_end_then_enjoys(train_briefly_then_enjoy):
    saved, avg_reward = train_briefly_then_enjoy(
        train_atari.main,  # 4096 env steps are frames: 1024 agent steps
        enjoy_atari.main,
        "atari_breakout",
        "--rollout=32",
        "--batch_size=64",
        "--num_batches_per_epoch=2",
        enjoy_args=["--max_num_episodes=2", "--max_num_frames=4000"],
    )
    assert saved["env_frameskip"] == 4 and saved["encoder_conv_architecture"] == "convnet_atari"
    assert avg_reward >= 0.0


def test_runtime_episode_records_carry_the_whole_games_unclipped_score():
    from sf_runtime import create_env

    atari_env.register_atari_envs()
    env = create_env("atari_breakout", train_atari.parse_args(["--env=atari_breakout"]))
    env.reset(seed=1)
    records = []
    for _ in range(5000):
        *_, infos = env.step([env.action_space.sample()])
        if "episode" in infos[0]:
            records.append(infos[0]["episode"])
            if "game_score" in records[-1]:
                break
    assert len(records) == 5  # one episode per life for the learner, the game's score on the last
    assert records[-1]["game_score"] >= sum(r["reward"] for r in records)  # unclipped >= clipped
    assert records[-1]["game_frames"] >= 4 * sum(r["length"] for r in records)
    env.close()
