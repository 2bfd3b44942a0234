"""VizDoom with the real engine (vizdoom ships it, with the freedoom WADs; no screen): the env wrapper, the defaults,
the entry point, and (slow) a short doom_basic training run evaluated afterwards, and the two-agent duel."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

vizdoom = pytest.importorskip("vizdoom", reason="vizdoom is not installed: pip install 'sf-examples[vizdoom]'")

from gymnasium import spaces  # noqa: E402

from sf_examples.vizdoom import doom_env, doom_player, enjoy_vizdoom, train_vizdoom  # noqa: E402
from sf_runtime import Discretized  # noqa: E402


@pytest.fixture
def basic():
    env = doom_env.make_doom_env("doom_basic")
    yield env
    env.close()


def test_basic_spaces_steps_reset_and_close(basic):
    assert basic.observation_space == spaces.Box(0, 255, (3, 72, 128), np.uint8)
    assert basic.action_space == spaces.Discrete(4)  # idle, left, right, attack
    obs, info = basic.reset(seed=0)
    assert obs.shape == (3, 72, 128) and obs.dtype == np.uint8 and obs.max() > 0 and info == {}
    for action in (0, 1, 2, 0, 1):  # idle and strafing: no shot, so the episode cannot end yet
        obs, reward, terminated, truncated, info = basic.step(action)
        assert basic.observation_space.contains(obs)
        assert isinstance(reward, float) and not terminated and not truncated
    obs, _ = basic.reset()
    assert basic.player.game.get_episode_time() <= 20  # a new episode (basic starts at tic 14)
    basic.close()
    assert not basic.player.game.is_running()


def test_each_step_is_env_frameskip_tics_and_the_time_limit_truncates(basic):
    game = basic.player.game
    basic.reset(seed=0)
    start = game.get_episode_time()
    _, reward, *_ = basic.step(0)  # idle: no kill, no shot
    assert game.get_episode_time() - start == 4
    assert reward == pytest.approx(-0.04)  # -1 per tic, times basic's reward scale 0.01
    for _ in range(200):
        _, _, terminated, truncated, info = basic.step(0)
        if terminated or truncated:
            break
    assert truncated and not terminated  # basic's 300 tics, about 75 steps
    assert info["episode_extra_stats"] == {"kills": 0.0}


def test_frameskip_and_resolution_come_from_the_cfg():
    cfg = train_vizdoom.parse_args(["--env=doom_basic", "--env_frameskip=2", "--res_w=64", "--res_h=36"])
    env = doom_env.make_doom_env("doom_basic", cfg)
    try:
        assert env.observation_space.shape == (3, 36, 64)
        env.reset(seed=1)
        start = env.player.game.get_episode_time()
        env.step(0)
        assert env.player.game.get_episode_time() - start == 2
    finally:
        env.close()


def test_killing_the_monster_ends_the_episode_with_a_kill(basic):
    basic.reset(seed=3)
    basic.action_space.seed(3)
    ends = []
    for _ in range(2000):
        _, reward, terminated, truncated, info = basic.step(basic.action_space.sample())
        if terminated or truncated:
            ends.append((terminated, reward, info["episode_extra_stats"]["kills"]))
            if terminated:
                break
            basic.reset()
    terminated, reward, kills = ends[-1]
    assert terminated and kills == 1.0 and reward > 0  # basic ends early only on the kill (+100, scaled 0.01)


def test_scenario_action_spaces():
    assert doom_env.doom_scenario("doom_defend_the_center").action_space() == spaces.Discrete(4)
    assert doom_env.doom_scenario("doom_health_gathering_supreme").action_space() == spaces.MultiDiscrete([3, 2])
    dm = doom_env.doom_scenario("doom_deathmatch_bots").action_space()
    assert isinstance(dm, spaces.Tuple) and [int(s.n) for s in dm.spaces] == [3, 3, 2, 2, 11]
    assert isinstance(dm.spaces[-1], Discretized)
    with pytest.raises(ValueError, match=r"unknown Doom env 'doom_zork'.*doom_basic"):
        doom_env.make_doom_env("doom_zork")


def test_health_gathering_counts_medkits_and_health():
    env = doom_env.make_doom_env("doom_health_gathering_supreme")
    try:
        env.reset(seed=0)
        for _ in range(600):
            _, reward, terminated, truncated, info = env.step(np.array([0, 0]))  # stand still in the acid
            if terminated or truncated:
                break
        assert terminated  # dead
        assert set(info["episode_extra_stats"]) == {"health", "medkits"}
        assert info["episode_extra_stats"]["health"] <= 0
        assert reward < 0  # the death penalty
    finally:
        env.close()


def test_deathmatch_button_values():
    scenario = doom_env.doom_scenario("doom_deathmatch_bots")
    player = object.__new__(doom_player.DoomPlayer)  # the action conversion alone, with no game
    player.scenario = scenario
    player._button_index = {name: i for i, name in enumerate(scenario.buttons)}
    player._buttons = [0.0] * len(scenario.buttons)
    pressed = dict(zip(scenario.buttons, player.buttons_of((1, 2, 1, 0, 10)), strict=True))
    assert pressed == {
        "MOVE_FORWARD": 1.0,
        "MOVE_BACKWARD": 0.0,
        "MOVE_LEFT": 0.0,
        "MOVE_RIGHT": 1.0,
        "ATTACK": 1.0,
        "SPEED": 0.0,
        "TURN_LEFT_RIGHT_DELTA": 10.0,
    }


def test_defaults_are_doom_settings_with_a_conv_encoder_and_a_gru():
    cfg = train_vizdoom.parse_args(["--env=doom_basic", "--rnn_size=128"])
    assert cfg.env_frameskip == 4 and (cfg.res_w, cfg.res_h) == (128, 72)
    assert cfg.encoder_conv_architecture == "convnet_simple" and cfg.use_rnn and cfg.rnn_type == "gru"
    assert cfg.rollout == 32 and cfg.recurrence == 32
    assert cfg.source_of("encoder_conv_architecture") == "env"
    assert cfg.rnn_size == 128  # the command line still wins
    assert train_vizdoom.parse_args(["--env=doom_deathmatch_bots"]).num_bots == -1


def test_a_fresh_process_finds_doom_basic_through_the_entry_point():
    code = (
        "import sys; from sf_registry import env_spec; spec = env_spec('doom_basic'); "
        "print(spec.source, spec.is_lazy, 'sf_examples.vizdoom.doom_env' in sys.modules); "
        "from sf_examples.args import parse_args; cfg = parse_args(['--env=doom_basic']); "
        "print(cfg.encoder_conv_architecture, cfg.source_of('encoder_conv_architecture'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["entry", "point", "True", "False", "convnet_simple", "env"]


@pytest.mark.slow
def test_doom_basic_trains_briefly_then_enjoys(tmp_path):
    names = ["--env=doom_basic", "--experiment=doom_basic", f"--train_dir={tmp_path}", "--device=cpu"]
    short = [
        "--serial_mode=True",
        "--num_workers=1",
        "--num_envs_per_worker=4",
        "--worker_num_splits=1",
        "--rollout=16",
        "--recurrence=16",
        "--batch_size=64",
        "--rnn_size=64",
        "--encoder_conv_mlp_layers",
        "64",
        "--train_for_env_steps=4096",  # frames: 1024 agent steps
        "--seed=0",
    ]
    assert train_vizdoom.main([*names, *short]) == 0
    experiment = tmp_path / "doom_basic"
    saved = json.loads((experiment / "config.json").read_text())
    assert saved["env_frameskip"] == 4 and saved["encoder_conv_architecture"] == "convnet_simple"
    assert list((experiment / "checkpoint_p0").glob("checkpoint_*.pth"))

    status, avg_reward = enjoy_vizdoom.main([*names, "--no_render", "--max_num_episodes=2"])
    assert status == 0 and math.isfinite(avg_reward) and -3.5 <= avg_reward <= 1.0


@pytest.mark.slow
def test_sf_cli_trains_doom_basic_with_no_script(tmp_path):
    script = Path(sys.executable).with_name("sf-cli")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "sf_cli"]
    args = ["train", "--env", "doom_basic", "--experiment", "cli", "--train_dir", str(tmp_path), "--device=cpu"]
    args += ["--serial_mode=True", "--num_workers=1", "--num_envs_per_worker=2", "--worker_num_splits=1"]
    args += ["--rollout=16", "--recurrence=16", "--batch_size=32", "--rnn_size=32", "--train_for_env_steps=1024"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=500, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    saved = json.loads((tmp_path / "cli" / "config.json").read_text())
    assert saved["env"] == "doom_basic" and saved["rnn_type"] == "gru"
    assert saved["exploration_loss"] == "symmetric_kl" and saved["env_frameskip"] == 4  # the Doom defaults


@pytest.mark.slow
def test_duel_two_agents_in_two_game_instances_on_loopback():
    env = doom_env.make_doom_env("doom_duel")
    try:
        assert env.num_agents == 2 and env.is_multiagent
        obs, infos = env.reset(seed=0)
        assert len(obs) == 2 and obs[0].shape == (3, 72, 128) and len(infos) == 2
        host_time = env.players[0].game.get_episode_time()
        for _ in range(20):
            obs, rewards, terminated, truncated, infos = env.step([env.action_space.sample() for _ in range(2)])
            assert len(rewards) == 2 and terminated[0] == terminated[1] and truncated[0] == truncated[1]
            if terminated[0] or truncated[0]:
                assert set(infos[0]["episode_extra_stats"]) >= {"frags", "deaths", "damage"}
                env.reset()
        # both instances advance in lockstep (the client's clock may lag the host's by a tic)
        times = [player.game.get_episode_time() for player in env.players]
        assert abs(times[0] - times[1]) <= 1 and times[0] != host_time
    finally:
        env.close()
