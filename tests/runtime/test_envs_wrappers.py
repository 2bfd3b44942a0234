"""create_env and MultiAgentEnv: multi-agent form, dict observations, episode statistics, auto-reset, frameskip,
seeding, and the errors for envs sf cannot train on."""

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

from sf_config import make_cfg
from sf_runtime.envs import EnvError, MultiAgentEnv, create_env, env_seed
from sf_runtime.envs.frameskip import ActionRepeat


def cfg_for(env, **overrides):
    return make_cfg(env=env, experiment="envs_test", **overrides)


class DictObsEnv(gymnasium.Env):
    """Dict observations (a float vector and a small uint8 image); episodes of 5 steps; reward = action."""

    def __init__(self, render_mode=None):
        self.observation_space = spaces.Dict(
            {
                "pos": spaces.Box(-10.0, 10.0, (2,), np.float32),
                "img": spaces.Box(0, 255, (3, 4, 4), np.uint8),
            }
        )
        self.action_space = spaces.Discrete(3)
        self.t = 0

    def _obs(self):
        return {"pos": np.full(2, self.t, np.float32), "img": np.full((3, 4, 4), self.t, np.uint8)}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), float(action), self.t >= 5, False, {}


class ExtraStatsEnv(gymnasium.Env):
    """Episodes of 3 steps, reward 0.5 per step; the last info carries episode_extra_stats."""

    observation_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)

    def __init__(self, render_mode=None):
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        done = self.t >= 3
        info = {"episode_extra_stats": {"coins": 7.0, "t_end": self.t}} if done else {}
        return np.zeros(1, np.float32), 0.5, done, False, info


class TwoAgentEnv:
    """A native multi-agent env: 2 agents, agent i gets reward i + 1 per step, both done after 4 steps.

    It does not reset itself, so the runtime's wrapper must; it counts its resets.
    """

    is_multiagent = True
    num_agents = 2
    observation_space = spaces.Box(0.0, 100.0, (3,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, render_mode=None):
        self.t = 0
        self.resets = 0
        self.last_actions = None

    def _obs(self):
        return [np.array([i, self.t, self.resets], np.float32) for i in range(2)]

    def reset(self, seed=None, options=None):
        self.t = 0
        self.resets += 1
        return self._obs(), [{}, {}]

    def step(self, actions):
        self.last_actions = [int(a) for a in actions]
        self.t += 1
        done = self.t >= 4
        return self._obs(), [1.0, 2.0], [done, done], [False, False], [{}, {}]

    def close(self):
        pass


class WrongDtypeEnv(ExtraStatsEnv):
    def reset(self, *, seed=None, options=None):
        return np.zeros(1, np.float64), {}


class WrongShapeEnv(ExtraStatsEnv):
    def step(self, action):
        return np.zeros(2, np.float32), 0.0, False, False, {}


class NanObsEnv(ExtraStatsEnv):
    def step(self, action):
        self.t += 1
        value = np.nan if self.t == 2 else 0.0
        return np.full(1, value, np.float32), 0.0, False, False, {}


class NanRewardEnv(ExtraStatsEnv):
    def step(self, action):
        return np.zeros(1, np.float32), float("inf"), False, False, {}


class MultiBinaryActionEnv(ExtraStatsEnv):
    action_space = spaces.MultiBinary(3)


class ImageObsOnlyDiscreteEnv(ExtraStatsEnv):
    observation_space = spaces.Discrete(4)


TEST_ENVS = {
    "SfTestDictObs-v0": DictObsEnv,
    "SfTestExtraStats-v0": ExtraStatsEnv,
    "SfTestWrongDtype-v0": WrongDtypeEnv,
    "SfTestWrongShape-v0": WrongShapeEnv,
    "SfTestNanObs-v0": NanObsEnv,
    "SfTestNanReward-v0": NanRewardEnv,
    "SfTestMultiBinary-v0": MultiBinaryActionEnv,
    "SfTestDiscreteObs-v0": ImageObsOnlyDiscreteEnv,
}
for _name, _cls in TEST_ENVS.items():
    if _name not in gymnasium.registry:
        gymnasium.register(_name, entry_point=_cls, disable_env_checker=True)


def test_cartpole_becomes_one_agent_with_dict_obs_and_episode_stats():
    env = create_env("CartPole-v1", cfg_for("CartPole-v1", seed=3))
    assert isinstance(env, MultiAgentEnv)
    assert env.num_agents == 1 and not env.is_multiagent
    assert list(env.observation_space.spaces) == ["obs"]
    assert env.observation_space["obs"].shape == (4,)
    obs, infos = env.reset()
    assert len(obs) == 1 and obs[0]["obs"].dtype == np.float32 and len(infos) == 1

    ended = []
    total, steps = 0.0, 0
    for _ in range(400):
        obs, rewards, terminated, truncated, infos = env.step([1])  # always push right: short episodes
        total += rewards[0]
        steps += 1
        if terminated[0] or truncated[0]:
            ended.append((infos[0]["episode"], total, steps))
            total, steps = 0.0, 0
            # auto-reset: the returned observation starts the next episode (CartPole starts within +-0.05)
            assert np.all(np.abs(obs[0]["obs"]) <= 0.05)
    assert len(ended) >= 5
    for record, reward_sum, length in ended:
        assert record["reward"] == pytest.approx(reward_sum)
        assert record["length"] == length
        assert record["policy_agent"] == 0
    env.close()


def test_dict_observations_pass_through():
    env = create_env("SfTestDictObs-v0", cfg_for("SfTestDictObs-v0"))
    assert set(env.observation_space.spaces) == {"pos", "img"}
    obs, _ = env.reset()
    assert obs[0]["img"].dtype == np.uint8 and obs[0]["img"].shape == (3, 4, 4)
    for t in range(1, 5):
        obs, rewards, terminated, _, infos = env.step([2])
        assert obs[0]["pos"][0] == t and not terminated[0] and rewards == [2.0]
    obs, _, terminated, _, infos = env.step([1])
    assert terminated == [True]
    assert infos[0]["episode"]["reward"] == pytest.approx(9.0)
    assert infos[0]["episode"]["length"] == 5
    assert obs[0]["pos"][0] == 0  # first observation of the next episode


def test_episode_extra_stats_are_merged_into_the_episode_record():
    env = create_env("SfTestExtraStats-v0", cfg_for("SfTestExtraStats-v0"))
    env.reset()
    records = []
    for _ in range(6):
        _, _, _, _, infos = env.step([np.zeros(2, np.float32)])
        if "episode" in infos[0]:
            records.append(infos[0]["episode"])
    assert records == [{"coins": 7.0, "t_end": 3, "reward": 1.5, "length": 3, "policy_agent": 0}] * 2


def test_native_multi_agent_env_passes_through_and_is_reset_when_all_agents_are_done():
    raw = TwoAgentEnv()
    env = MultiAgentEnv(raw, "two_agents")
    assert env.num_agents == 2 and env.is_multiagent
    obs, _ = env.reset()
    assert [o["obs"][0] for o in obs] == [0.0, 1.0]
    for _ in range(3):
        obs, rewards, terminated, _, infos = env.step([0, 1])
        assert rewards == [1.0, 2.0] and terminated == [False, False]
    assert raw.last_actions == [0, 1]
    obs, rewards, terminated, _, infos = env.step([1, 1])
    assert terminated == [True, True]
    assert [info["episode"]["reward"] for info in infos] == [4.0, 8.0]
    assert [info["episode"]["length"] for info in infos] == [4, 4]
    assert [info["episode"]["policy_agent"] for info in infos] == [0, 1]
    assert raw.resets == 2  # the wrapper reset the env that does not reset itself
    assert [o["obs"][1] for o in obs] == [0.0, 0.0]  # t == 0: observations of the new episode


def test_multi_agent_env_that_resets_itself_is_not_reset_again():
    raw = TwoAgentEnv()
    raw.auto_reset = True
    env = MultiAgentEnv(raw, "two_agents")
    env.reset()
    for _ in range(4):
        env.step([0, 0])
    assert raw.resets == 1


def test_frameskip_repeats_actions_for_plain_gymnasium_ids():
    env = create_env("CartPole-v1", cfg_for("CartPole-v1", env_frameskip=4, seed=1))
    assert isinstance(env.env, ActionRepeat) and env.env.frameskip == 4
    env.reset()
    _, rewards, terminated, _, _ = env.step([0])
    assert rewards == [4.0] and not terminated[0]  # four CartPole frames, reward 1 each

    single = create_env("CartPole-v1", cfg_for("CartPole-v1", env_frameskip=1))
    assert not isinstance(single.env, ActionRepeat)


def test_same_seed_same_episodes_and_env_ids_differ():
    def first_obs(seed, env_id):
        env = create_env("CartPole-v1", cfg_for("CartPole-v1", seed=seed), {"env_id": env_id})
        return env.reset()[0][0]["obs"]

    np.testing.assert_array_equal(first_obs(5, 0), first_obs(5, 0))
    assert not np.array_equal(first_obs(5, 0), first_obs(5, 1))
    assert env_seed(None, 3) is None
    assert env_seed(0, 1) != env_seed(1, 0)


@pytest.mark.parametrize(
    ("env_name", "fragment"),
    [
        ("SfTestWrongDtype-v0", "dtype float64"),
        ("SfTestWrongShape-v0", "shape (2,)"),
        ("SfTestNanObs-v0", "NaN or inf"),
        ("SfTestNanReward-v0", "NaN or inf reward"),
    ],
)
def test_bad_observations_and_rewards_are_clear_errors_by_the_first_steps(env_name, fragment):
    env = create_env(env_name, cfg_for(env_name))
    with pytest.raises(EnvError, match=env_name) as err:
        env.reset()
        for _ in range(3):
            env.step([np.zeros(2, np.float32)])
    assert fragment in str(err.value)


def test_unsupported_spaces_are_rejected_at_creation():
    with pytest.raises(EnvError, match="MultiBinary") as err:
        create_env("SfTestMultiBinary-v0", cfg_for("SfTestMultiBinary-v0"))
    assert "Discrete, MultiDiscrete, Box" in str(err.value)
    with pytest.raises(EnvError, match="observation space Discrete"):
        create_env("SfTestDiscreteObs-v0", cfg_for("SfTestDiscreteObs-v0"))


def test_wrong_number_of_actions_is_an_error():
    env = create_env("CartPole-v1", cfg_for("CartPole-v1"))
    env.reset()
    with pytest.raises(EnvError, match="1 agent"):
        env.step([0, 1])


def test_interfaces_training_info_default_and_reward_shaping_is_abstract():
    from sf_runtime.envs import RewardShapingInterface, TrainingInfoInterface, find_training_info_interface

    class Curriculum(gymnasium.Wrapper, TrainingInfoInterface):
        def __init__(self, env):
            gymnasium.Wrapper.__init__(self, env)
            TrainingInfoInterface.__init__(self)

    wrapped = gymnasium.wrappers.RecordEpisodeStatistics(Curriculum(gymnasium.make("CartPole-v1")))
    found = find_training_info_interface(wrapped)  # found below an outer wrapper
    assert isinstance(found, Curriculum) and found.training_info == {}
    found.set_training_info({"approx_total_training_steps": 10})
    assert found.training_info == {"approx_total_training_steps": 10}

    class NoShaping(RewardShapingInterface):
        pass

    with pytest.raises(TypeError, match="abstract"):
        NoShaping()
