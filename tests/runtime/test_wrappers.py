"""The gymnasium wrappers of sf_runtime: Atari preprocessing on a small arcade-like env (and on real ALE when
installed), and the general wrappers env factories use."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from sf_runtime import (
    ClipRewardEnv,
    EpisodicLifeEnv,
    FireResetEnv,
    FrameStack,
    MaxAndSkipEnv,
    NoopResetEnv,
    NumpyObsWrapper,
    PixelFormatChwWrapper,
    RecordingWrapper,
    ResizeWrapper,
    RewardScalingWrapper,
    TimeLimitWrapper,
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


class Steps(gym.Env):
    """Observation = steps since reset (a float vector, or a list to look like lazy frames); reward 1.5 per step;
    terminates after ``episode_len`` steps."""

    def __init__(self, episode_len=1000, as_list=False):
        self.observation_space = spaces.Box(0.0, 1e6, (2,), np.float32)
        self.action_space = spaces.Discrete(3)
        self.episode_len, self.as_list, self.t = episode_len, as_list, 0

    def _obs(self):
        obs = [float(self.t), float(-self.t)]
        return obs if self.as_list else np.array(obs, np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), 1.5, self.t >= self.episode_len, False, {}


def test_numpy_obs_wrapper_turns_lists_into_arrays_of_the_space_dtype():
    env = NumpyObsWrapper(Steps(as_list=True))
    obs, _ = env.reset(seed=0)
    assert isinstance(obs, np.ndarray) and obs.dtype == np.float32 and obs.tolist() == [0.0, 0.0]
    obs = env.step(0)[0]
    assert isinstance(obs, np.ndarray) and obs.tolist() == [1.0, -1.0]
    assert env.observation_space == Steps().observation_space


def test_reward_scaling_wrapper_multiplies_rewards():
    env = RewardScalingWrapper(Steps(), 0.1)
    env.reset(seed=0)
    assert env.step(0)[1] == pytest.approx(0.15)
    with pytest.raises(ValueError, match=r"scaling_factor must be a finite real number, got nan"):
        RewardScalingWrapper(Steps(), float("nan"))
    with pytest.raises(ValueError, match=r"got '2'"):
        RewardScalingWrapper(Steps(), "2")


def test_time_limit_wrapper_truncates_after_the_limit():
    env = TimeLimitWrapper(Steps(), limit=5)
    env.reset(seed=0)
    flags = [env.step(0)[2:4] for _ in range(5)]
    assert flags == [(False, False)] * 4 + [(False, True)]
    env.reset()
    assert env.step(0)[3] is False, "the count starts again after a reset"


def test_time_limit_wrapper_varies_the_limit_reproducibly():
    def lengths(seed):
        env = TimeLimitWrapper(Steps(), limit=20, random_variation_steps=5)
        env.reset(seed=seed)
        result = []
        for _ in range(12):
            steps, truncated = 0, False
            while not truncated:
                truncated = env.step(0)[3]
                steps += 1
            result.append(steps)
            env.reset()
        return result

    first = lengths(3)
    assert all(15 <= n <= 25 for n in first) and len(set(first)) > 1
    assert lengths(3) == first


def test_time_limit_wrapper_keeps_a_termination_on_the_last_step():
    env = TimeLimitWrapper(Steps(episode_len=3), limit=3)
    env.reset(seed=0)
    env.step(0), env.step(0)
    assert env.step(0)[2:4] == (True, False)


@pytest.mark.parametrize(
    ("limit", "variation", "match"),
    [(0, 0, "limit"), (5, 5, "random_variation_steps"), (5, -1, "from 0 to limit - 1 = 4, got -1")],
)
def test_time_limit_wrapper_rejects_bad_limits(limit, variation, match):
    with pytest.raises(ValueError, match=match):
        TimeLimitWrapper(Steps(), limit=limit, random_variation_steps=variation)


def test_recording_wrapper_writes_each_whole_episode(tmp_path):
    env = RecordingWrapper(Steps(episode_len=3), tmp_path / "rec", player_id=1)
    for _ in range(2):
        env.reset(seed=0)
        terminated = False
        while not terminated:
            terminated = env.step(2)[2]
    env.reset()
    env.step(0)  # an unfinished episode is not written
    env.close()
    files = sorted(p.name for p in (tmp_path / "rec").iterdir())
    assert files == ["ep_0000_p1.npz", "ep_0001_p1.npz"]
    with np.load(tmp_path / "rec" / "ep_0001_p1.npz") as episode:
        assert episode["observations"][:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]
        assert episode["actions"].tolist() == [2, 2, 2] and episode["rewards"].tolist() == [1.5] * 3


def test_two_recorders_in_one_folder_do_not_overwrite_each_other(tmp_path):
    envs = [RecordingWrapper(Steps(episode_len=1), tmp_path, player_id=None) for _ in range(2)]
    for env in envs:
        env.reset(seed=0)
        env.step(0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep_0000.npz", "ep_0001.npz"]
