"""Atari-style wrappers of sf_registry, on a small arcade-like gymnasium env (and on real ALE when installed)."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from sf_registry import (
    ClipRewardEnv,
    EpisodicLifeEnv,
    FireResetEnv,
    FrameStack,
    MaxAndSkipEnv,
    NoopResetEnv,
    PixelFormatChwWrapper,
    ResizeWrapper,
    atari_preprocessing,
)


class ToyArcade(gym.Env):
    """An RGB 210x160 'game': 3 lives, one lost every 10 frames, reward 2 per frame, a sprite drawn on odd frames."""

    metadata = {"render_modes": []}

    def __init__(self, lives=3, frames_per_life=10):
        self.observation_space = spaces.Box(0, 255, (210, 160, 3), np.uint8)
        self.action_space = spaces.Discrete(4)
        self.start_lives = lives
        self.frames_per_life = frames_per_life
        self.actions_taken = []
        self.resets = 0

    def get_action_meanings(self):
        return ["NOOP", "FIRE", "RIGHT", "LEFT"]

    def _obs(self):
        obs = np.full((210, 160, 3), 10, np.uint8)
        if self.frame % 2 == 1:
            obs[0, 0] = 200  # flickering sprite
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.frame, self.lives, self.resets = 0, self.start_lives, self.resets + 1
        self.actions_taken = []
        return self._obs(), {"lives": self.lives}

    def step(self, action):
        self.actions_taken.append(int(action))
        self.frame += 1
        if self.frame % self.frames_per_life == 0:
            self.lives -= 1
        return self._obs(), 2.0, self.lives == 0, False, {"lives": self.lives}


def test_noop_reset_takes_between_one_and_noop_max_noops():
    env = NoopResetEnv(ToyArcade(frames_per_life=1000), noop_max=5)
    counts = set()
    for seed in range(30):
        env.reset(seed=seed)
        taken = env.unwrapped.actions_taken
        assert set(taken) == {0} and 1 <= len(taken) <= 5
        counts.add(len(taken))
    assert len(counts) > 1


def test_max_and_skip_sums_rewards_and_max_pools_the_last_two_frames():
    env = MaxAndSkipEnv(ToyArcade(frames_per_life=1000), skip=4)
    env.reset(seed=0)
    obs, reward, terminated, truncated, _ = env.step(2)
    assert reward == 8.0 and not terminated and not truncated
    assert env.unwrapped.actions_taken == [2, 2, 2, 2]
    assert obs[0, 0, 0] == 200  # frame 3 had the sprite, frame 4 not: the max keeps it


def test_max_and_skip_stops_at_the_end_of_the_episode():
    env = MaxAndSkipEnv(ToyArcade(lives=1, frames_per_life=3), skip=4)
    env.reset(seed=0)
    _, reward, terminated, _, _ = env.step(0)
    assert terminated and reward == 6.0


def test_episodic_life_ends_episodes_on_a_lost_life_and_resets_only_at_game_over():
    env = EpisodicLifeEnv(ToyArcade(lives=2, frames_per_life=3))
    env.reset(seed=0)
    steps = [env.step(0) for _ in range(3)]
    assert [s[2] for s in steps] == [False, False, True]
    assert steps[-1][4]["game_over"] is False
    env.reset()
    assert env.unwrapped.resets == 1  # continued the same game
    steps = [env.step(0) for _ in range(2)]
    assert steps[-1][2] and steps[-1][4]["game_over"] is True
    env.reset()
    assert env.unwrapped.resets == 2


def test_fire_reset_presses_fire_then_action_two():
    env = FireResetEnv(ToyArcade())
    env.reset(seed=0)
    assert env.unwrapped.actions_taken == [1, 2]


def test_fire_reset_rejects_a_game_without_fire():
    class NoFire(ToyArcade):
        def get_action_meanings(self):
            return ["NOOP", "UP", "DOWN", "LEFT"]

    with pytest.raises(ValueError, match="FIRE"):
        FireResetEnv(NoFire())


def test_resize_to_grayscale_84x84_averages_areas():
    env = ResizeWrapper(ToyArcade(), 84, 84, grayscale=True)
    assert env.observation_space.shape == (84, 84) and env.observation_space.dtype == np.uint8
    obs, _ = env.reset(seed=0)
    assert obs.shape == (84, 84) and obs.dtype == np.uint8
    assert (obs == 10).all()
    obs, *_ = env.step(0)  # odd frame: one bright pixel in the corner raises the corner's average only
    assert obs[0, 0] > 10 and (obs[1:, :] == 10).all() and (obs[:, 1:] == 10).all()


def test_resize_keeps_colour_and_moves_channels_first():
    env = PixelFormatChwWrapper(ResizeWrapper(ToyArcade(), 42, 50, grayscale=False))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 50, 42) == env.observation_space.shape


def test_resize_converts_pure_red_with_the_luma_weights():
    class Red(ToyArcade):
        def _obs(self):
            obs = np.zeros((210, 160, 3), np.uint8)
            obs[..., 0] = 255
            return obs

    obs, _ = ResizeWrapper(Red(), 84, 84, add_channel_dim=True).reset(seed=0)
    assert obs.shape == (84, 84, 1) and (obs == round(0.299 * 255)).all()


def test_resize_rejects_non_image_observations():
    with pytest.raises(ValueError, match="Box observations"):
        ResizeWrapper(gym.make("CartPole-v1"), 84, 84)


def test_frame_stack_keeps_the_last_frames_oldest_first():
    class Counter(ToyArcade):
        def _obs(self):
            return np.full((210, 160, 3), self.frame, np.uint8)

    env = FrameStack(ResizeWrapper(Counter(frames_per_life=1000), 8, 8), 3)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 8, 8) == env.observation_space.shape
    assert [int(f[0, 0]) for f in obs] == [0, 0, 0]
    env.step(0)
    obs, *_ = env.step(0)
    assert [int(f[0, 0]) for f in obs] == [0, 1, 2]


def test_clip_reward_keeps_the_sign():
    env = ClipRewardEnv(ToyArcade())
    env.reset(seed=0)
    assert env.step(0)[1] == 1.0
    assert env.reward(-7.5) == -1.0 and env.reward(0.0) == 0.0


@pytest.mark.parametrize("bad", [0, -3, 2.5, "4"])
def test_bad_sizes_are_rejected_with_the_value(bad):
    with pytest.raises(ValueError, match="positive integer"):
        MaxAndSkipEnv(ToyArcade(), skip=bad)


def test_atari_preprocessing_gives_stacked_84x84_frames_and_clipped_rewards():
    env = atari_preprocessing(ToyArcade(lives=3, frames_per_life=40), noop_max=3)
    assert env.observation_space.shape == (4, 84, 84)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert env.unwrapped.actions_taken[-8:] == [1] * 4 + [2] * 4  # fire reset after the no-ops, 4 frames each
    rewards, terminated = [], False
    while not terminated:
        obs, reward, terminated, _, info = env.step(3)
        rewards.append(reward)
    assert set(rewards) == {1.0} and info["game_over"] is False  # first life lost, game goes on


def test_real_breakout_through_the_standard_preprocessing():
    ale_py = pytest.importorskip("ale_py", reason="ale-py is not installed (pip install 'sf-examples[atari]')")
    gym.register_envs(ale_py)
    env = atari_preprocessing(gym.make("ALE/Breakout-v5", frameskip=1, repeat_action_probability=0.0))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and env.action_space.n == 4
    for _ in range(50):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert reward in (0.0, 1.0)
        if terminated or truncated:
            obs, _ = env.reset()
    assert obs.std() > 0  # a real screen, not a blank frame
    env.close()


def test_game_score_sums_unclipped_rewards_over_all_lives():
    env = atari_preprocessing(ToyArcade(lives=2, frames_per_life=8), noop_max=1, fire_reset=False)
    env.reset(seed=0)
    life_episodes, game_stats = 0, None
    for _ in range(50):
        _, reward, terminated, truncated, info = env.step(0)
        assert reward == 1.0  # the learner sees clipped rewards
        if terminated or truncated:
            life_episodes += 1
            if info["game_over"]:
                game_stats = info["episode_extra_stats"]
                break
            assert "episode_extra_stats" not in info
            env.reset()
    assert life_episodes == 2
    assert game_stats == {"game_score": 2.0 * 16, "game_frames": 16}  # reward 2 per frame, 2 lives of 8 frames
