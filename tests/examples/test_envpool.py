"""EnvPool as a batched env source: the vector (shapes, auto-reset, dones, episode statistics), its single-env form,
the defaults, and (slow) short training runs that step one pool per worker split."""

import json

import numpy as np
import pytest

envpool = pytest.importorskip("envpool", reason="envpool is not installed: pip install 'sf-examples[envpool]'")

from gymnasium import spaces  # noqa: E402

from sf_examples.envpool import envpool_env, train_envpool  # noqa: E402
from sf_runtime.envs import make_env_vector  # noqa: E402


@pytest.fixture
def breakout():
    vec = envpool_env.make_envpool_vector("envpool_breakout", None, [0, 1, 2, 3], 0)
    yield vec
    vec.close()


def test_atari_vector_shapes_and_one_call_per_step(breakout):
    assert breakout.num_envs == breakout.num_agents_total == 4 and breakout.batched
    assert breakout.observation_space["obs"] == spaces.Box(0, 255, (4, 84, 84), np.uint8)
    assert breakout.action_space == spaces.Discrete(4)
    obs = breakout.reset()
    assert obs["obs"].shape == (4, 4, 84, 84) and obs["obs"].dtype == np.uint8
    out = {"obs": np.zeros((4, 4, 84, 84), np.uint8)}  # e.g. views into shared memory
    obs, rewards, terminated, truncated, _episodes = breakout.step(np.zeros(4, np.int64), obs_out=out)
    assert obs is out and out["obs"].any()
    assert rewards.shape == (4,) and rewards.dtype == np.float32
    assert terminated.dtype == truncated.dtype == np.bool_ and breakout.valids.all()


def test_atari_episodes_end_per_life_auto_reset_and_report_the_games_score(breakout):
    breakout.reset()
    rng = np.random.default_rng(0)
    records, invalid_after_done = [], 0
    done_before = np.zeros(4, bool)
    for _ in range(3000):
        _, rewards, terminated, truncated, episodes = breakout.step(rng.integers(0, 4, 4))
        assert set(np.unique(rewards)) <= {0.0, 1.0}  # clipped
        # the step after an episode ends is EnvPool's reset step: not valid, reward 0
        assert (breakout.valids == ~done_before).all() and (rewards[done_before] == 0).all()
        invalid_after_done += int(done_before.sum())
        done_before = terminated | truncated
        records += episodes
        if sum("game_score" in r for r in records) >= 2:
            break
    assert invalid_after_done > 0
    games = [r for r in records if "game_score" in r]
    assert len(games) >= 2
    for record in records:
        assert set(record) >= {"reward", "length", "policy_agent"} and 0 <= record["policy_agent"] < 4
        assert record["length"] > 0
    row = games[0]["policy_agent"]
    lives = [r for r in records if r["policy_agent"] == row]
    first_game = lives[: lives.index(games[0]) + 1]
    assert len(first_game) == 5  # Breakout's five lives, one learner episode each
    assert games[0]["game_frames"] == 4 * sum(r["length"] for r in first_game)
    assert games[0]["game_score"] >= sum(r["reward"] for r in first_game)


def test_mujoco_vector_float32_obs_time_limit_truncates():
    vec = envpool_env.make_envpool_vector("envpool_halfcheetah", None, [0, 1], 0)
    try:
        assert vec.observation_space["obs"].shape == (17,) and vec.observation_space["obs"].dtype == np.float32
        assert vec.action_space.shape == (6,) and vec.action_space.dtype == np.float32
        vec.reset()
        for t in range(1000):  # noqa: B007 (read after the loop)
            _, rewards, terminated, truncated, episodes = vec.step(np.zeros((2, 6), np.float32))
            if truncated.any():
                break
        assert t == 999 and truncated.all() and not terminated.any()  # HalfCheetah's 1000-step limit
        assert [r["length"] for r in episodes] == [1000, 1000]
        _, rewards, *_ = vec.step(np.zeros((2, 6), np.float32))
        assert not vec.valids.any() and (rewards == 0).all()  # the reset step
    finally:
        vec.close()


def test_the_single_env_form_matches_the_vector():
    env = envpool_env.make_envpool_env("envpool_breakout")
    try:
        assert env.observation_space == spaces.Box(0, 255, (4, 84, 84), np.uint8)
        assert env.action_space == spaces.Discrete(4)
        obs, _ = env.reset()
        assert obs.shape == (4, 84, 84)
        for _ in range(2000):
            obs, _reward, terminated, truncated, info = env.step(env.action_space.sample())
            if terminated or truncated:
                if "episode_extra_stats" in info:
                    break
                obs, _ = env.reset()
        assert info["episode_extra_stats"]["game_frames"] > 0
    finally:
        env.close()


def test_batched_sampling_makes_one_pool_per_split():
    cfg = train_envpool.parse_args(["--env=envpool_pong", "--num_envs_per_worker=6", "--worker_num_splits=2"])
    assert cfg.batched_sampling and cfg.encoder_conv_architecture == "convnet_atari"
    vec = make_env_vector(cfg, 1, 1, 3, batched=True)
    try:
        assert isinstance(vec, envpool_env.EnvPoolVector) and vec.num_envs == 3
        assert vec.env_ids == [9, 10, 11]  # worker 1, split 1
        assert vec.pool.config["num_envs"] == 3
    finally:
        vec.close()
    assert train_envpool.parse_args(["--env=envpool_hopper"]).encoder_mlp_layers == [64, 64]
    with pytest.raises(ValueError, match=r"unknown EnvPool env 'envpool_zork'.*envpool_breakout"):
        envpool_env.make_envpool_env("envpool_zork")


@pytest.mark.slow
@pytest.mark.parametrize("serial", [True, False], ids=["serial", "parallel"])
def test_breakout_trains_briefly_from_pools(tmp_path, serial):
    args = ["--env=envpool_breakout", "--experiment=ep", f"--train_dir={tmp_path}", "--device=cpu"]
    args += [f"--serial_mode={serial}", "--num_workers=2", "--num_envs_per_worker=4", "--worker_num_splits=2"]
    args += ["--rollout=16", "--batch_size=64", "--num_batches_per_epoch=2", "--num_epochs=1"]
    args += ["--encoder_conv_mlp_layers", "64", "--train_for_env_steps=4096", "--envpool_num_threads=1"]
    assert train_envpool.main(args) == 0
    saved = json.loads((tmp_path / "ep" / "config.json").read_text())
    assert saved["batched_sampling"] is True and saved["env"] == "envpool_breakout"
    assert list((tmp_path / "ep" / "checkpoint_p0").glob("checkpoint_*.pth"))
