"""EnvVector: the batched (gymnasium native vector) and loop forms give the samplers one interface."""

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

from sf_config import make_cfg
from sf_runtime.envs import (
    APPROX_TOTAL_TRAINING_STEPS,
    EnvError,
    LoopEnvVector,
    NativeEnvVector,
    RewardShapingInterface,
    TrainingInfoInterface,
    make_env_vector,
)


def cfg_for(env, **overrides):
    overrides.setdefault("num_envs_per_worker", 4)
    overrides.setdefault("worker_num_splits", 1)
    return make_cfg(env=env, experiment="vector_test", **overrides)


class CurriculumEnv(gymnasium.Env, TrainingInfoInterface):
    """Remembers the training info it was given; episodes of 2 steps."""

    observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = spaces.Box(-1.0, 1.0, (1,), np.float32)

    def __init__(self, render_mode=None):
        TrainingInfoInterface.__init__(self)
        self.t = 0

    def set_training_info(self, training_info):
        self.training_info = dict(training_info)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        obs = np.full(2, float(action[0]), np.float32)
        return obs, float(action[0]), self.t >= 2, False, {}


class ShapedEnv(CurriculumEnv, RewardShapingInterface):
    """Reward = coefficient "scale" (default 1) times the action."""

    def __init__(self, render_mode=None):
        super().__init__(render_mode)
        self.shaping = self.get_default_reward_shaping()

    def get_default_reward_shaping(self):
        return {"scale": 1.0}

    def set_reward_shaping(self, reward_shaping, agent_idx):
        self.shaping = dict(reward_shaping)

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward * self.shaping["scale"], terminated, truncated, info


class TwoAgentVecEnv(gymnasium.Env):
    """Native multi-agent env (2 agents), both done after 3 steps; reward = agent index + action."""

    is_multiagent = True
    num_agents = 2
    observation_space = spaces.Box(0.0, 10.0, (1,), np.float32)
    action_space = spaces.Discrete(3)

    def __init__(self, render_mode=None):
        self.t = 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return [np.zeros(1, np.float32)] * 2, [{}, {}]

    def step(self, actions):
        self.t += 1
        done = self.t >= 3
        obs = [np.full(1, self.t, np.float32)] * 2
        return obs, [float(i + actions[i]) for i in range(2)], [done] * 2, [False] * 2, [{}, {}]


class NanAtStep3Env(CurriculumEnv):
    def step(self, action):
        self.t += 1
        return np.full(2, np.nan if self.t == 3 else 0.0, np.float32), 0.0, False, False, {}


for _name, _cls in {
    "SfVecCurriculum-v0": CurriculumEnv,
    "SfVecTwoAgents-v0": TwoAgentVecEnv,
    "SfVecNan-v0": NanAtStep3Env,
    "SfVecShaped-v0": ShapedEnv,
}.items():
    if _name not in gymnasium.registry:
        gymnasium.register(_name, entry_point=_cls, disable_env_checker=True, order_enforce=False)


def run_cartpole(vec, steps, seed=0):
    """Steps vec with random actions; returns per-row (valid reward sum, valid length) of finished episodes."""
    rng = np.random.default_rng(seed)
    n = vec.num_agents_total
    returns, lengths = np.zeros(n), np.zeros(n, np.int64)
    finished = []
    obs = vec.reset()
    assert set(obs) == {"obs"} and obs["obs"].shape == (n, 4) and obs["obs"].dtype == np.float32
    for _ in range(steps):
        obs, rewards, terminated, truncated, episodes = vec.step(rng.integers(0, 2, n))
        assert rewards.dtype == np.float32 and terminated.dtype == bool and truncated.shape == (n,)
        returns += np.where(vec.valids, rewards, 0.0)
        lengths += vec.valids
        for record in episodes:
            row = record["policy_agent"]
            assert terminated[row] or truncated[row]
            finished.append((record, returns[row], lengths[row]))
            returns[row], lengths[row] = 0.0, 0
    return finished


def test_batched_cartpole_uses_gymnasium_native_vector_and_flags_its_reset_steps():
    with make_env_vector(cfg_for("CartPole-v1", seed=1), 0, 0, 4, batched=True) as vec:
        assert isinstance(vec, NativeEnvVector)
        assert vec.num_agents_total == 4 and vec.action_space == spaces.Discrete(2)
        vec.reset()
        rng = np.random.default_rng(0)
        saw_reset_step = False
        for _ in range(200):
            _, rewards, terminated, _, episodes = vec.step(rng.integers(0, 2, 4))
            was_done = {record["policy_agent"] for record in episodes}
            if saw_reset_step is False and was_done:
                row = next(iter(was_done))
                _, rewards, terminated, _, _ = vec.step(rng.integers(0, 2, 4))
                # gymnasium's NEXT_STEP autoreset: the following step is the env's own reset, flagged invalid
                assert not vec.valids[row] and rewards[row] == 0.0 and not terminated[row]
                assert vec.valids.sum() == 4 - len(was_done)
                saw_reset_step = True
        assert saw_reset_step
        finished = run_cartpole(vec, 300)
    assert len(finished) >= 10
    for record, reward_sum, length in finished:
        assert record["reward"] == pytest.approx(reward_sum) and record["length"] == length >= 8


@pytest.mark.parametrize("batched", [True, False])
def test_loop_vector_has_the_same_interface(batched):
    cfg = cfg_for("CartPole-v1", seed=2)
    with make_env_vector(cfg, 1, 0, 3, batched=batched, allow_native=False) as vec:
        assert isinstance(vec, LoopEnvVector) and vec.batched is batched
        assert vec.env_ids == [4, 5, 6]  # worker 1 of num_envs_per_worker=4
        finished = run_cartpole(vec, 300)
        assert vec.valids.all()
    assert len(finished) >= 10
    for record, reward_sum, length in finished:
        assert record["reward"] == pytest.approx(reward_sum) == length == record["length"]


def test_seeded_vectors_replay_the_same_episodes():
    def trajectory(batched):
        with make_env_vector(cfg_for("CartPole-v1", seed=7), 0, 0, 2, batched=batched) as vec:
            frames = [vec.reset()["obs"].copy()]
            for _ in range(30):
                frames.append(vec.step(np.ones(2, np.int64))[0]["obs"].copy())
        return np.stack(frames)

    np.testing.assert_array_equal(trajectory(False), trajectory(False))
    np.testing.assert_array_equal(trajectory(True), trajectory(True))


@pytest.mark.parametrize("batched", [True, False])
def test_obs_out_receives_the_observations(batched):
    with make_env_vector(cfg_for("CartPole-v1", seed=3), 0, 0, 2, batched=batched) as vec:
        dest = {"obs": np.full((2, 4), 99.0, np.float32)}
        returned = vec.reset(obs_out=dest)
        assert returned is dest and np.all(np.abs(dest["obs"]) <= 0.05)
        first = dest["obs"].copy()
        vec.step(np.zeros(2, np.int64), obs_out=dest)
        assert not np.array_equal(dest["obs"], first)
        assert not vec.obs["obs"].any()  # the vector's own arrays were not written
        own, *_ = vec.step(np.zeros(2, np.int64))
        assert own["obs"] is vec.obs["obs"] and own["obs"].any()
        with pytest.raises(ValueError, match="shape"):
            vec.step(np.zeros(2, np.int64), obs_out={"obs": np.zeros((3, 4), np.float32)})


def test_multi_agent_envs_in_a_vector_get_consecutive_rows():
    with make_env_vector(cfg_for("SfVecTwoAgents-v0"), 0, 0, 2, batched=False) as vec:
        assert vec.num_agents_total == 4 and vec.first_rows == [0, 2]
        vec.reset()
        for _ in range(2):
            _, rewards, terminated, _, episodes = vec.step(np.array([0, 1, 2, 0]))
            np.testing.assert_array_equal(rewards, [0.0, 2.0, 2.0, 1.0])
            assert not episodes
        _, _, terminated, _, episodes = vec.step(np.array([1, 1, 1, 1]))
        assert terminated.all()
        assert sorted((e["policy_agent"], e["reward"], e["length"]) for e in episodes) == [
            (0, 1.0, 3),
            (1, 6.0, 3),
            (2, 5.0, 3),
            (3, 4.0, 3),
        ]


def test_box_actions_and_training_info_reach_the_envs():
    with make_env_vector(cfg_for("SfVecCurriculum-v0"), 0, 0, 3, batched=True) as vec:
        assert isinstance(vec, LoopEnvVector)  # no native vector form for this env
        vec.reset()
        obs, rewards, *_ = vec.step(np.array([[0.1], [0.2], [0.3]], np.float32))
        np.testing.assert_allclose(rewards, [0.1, 0.2, 0.3], rtol=1e-6)
        np.testing.assert_allclose(obs["obs"][:, 0], [0.1, 0.2, 0.3], rtol=1e-6)
        vec.set_training_info({APPROX_TOTAL_TRAINING_STEPS: 12345})
        assert [env.unwrapped.training_info for env in vec.envs] == [{APPROX_TOTAL_TRAINING_STEPS: 12345}] * 3


def test_nan_observation_in_a_vector_is_a_clear_error():
    with make_env_vector(cfg_for("SfVecNan-v0"), 0, 0, 2, batched=False) as vec:
        vec.reset()
        vec.step(np.zeros((2, 1), np.float32))
        vec.step(np.zeros((2, 1), np.float32))
        with pytest.raises(EnvError, match=r"SfVecNan-v0.*NaN or inf \(agents \[0, 1\]\)"):
            vec.step(np.zeros((2, 1), np.float32))


@pytest.mark.parametrize("batched", [True, False])
def test_pendulum_box_actions_and_time_limit_truncation(batched):
    with make_env_vector(cfg_for("Pendulum-v1", seed=4), 0, 0, 2, batched=batched) as vec:
        assert isinstance(vec, LoopEnvVector)  # gymnasium has no numpy vector form of Pendulum
        assert vec.action_space.shape == (1,) and vec.observation_space["obs"].shape == (3,)
        vec.reset()
        rng = np.random.default_rng(1)
        returns = np.zeros(2)
        for step in range(1, 201):
            _, rewards, terminated, truncated, episodes = vec.step(rng.uniform(-2, 2, (2, 1)).astype(np.float32))
            assert (rewards <= 0).all() and not terminated.any()
            returns += rewards
            if step < 200:
                assert not truncated.any() and not episodes
        assert truncated.all()  # Pendulum's 200-step time limit: truncated, not terminated
        assert sorted(e["policy_agent"] for e in episodes) == [0, 1]
        for e in episodes:
            assert e["length"] == 200 and e["reward"] == pytest.approx(returns[e["policy_agent"]], rel=1e-5)


def test_a_native_vector_env_with_other_spaces_than_the_single_env_is_not_used():
    ale_py = pytest.importorskip("ale_py")
    gymnasium.register_envs(ale_py)
    assert gymnasium.spec("ALE/Pong-v5").vector_entry_point  # ale-py's AtariVectorEnv: stacked 84x84 frames
    with make_env_vector(cfg_for("ALE/Pong-v5", seed=0), 0, 0, 1, batched=True) as vec:
        assert isinstance(vec, LoopEnvVector)
        assert vec.observation_space["obs"].shape == (210, 160, 3)  # the single env's RGB screen


def test_reward_shaping_reaches_one_agent_or_all():
    with make_env_vector(cfg_for("SfVecShaped-v0"), 0, 0, 3, batched=False) as vec:
        vec.reset()
        actions = np.ones((3, 1), np.float32)
        vec.set_reward_shaping({"scale": 5.0}, agent=1)
        np.testing.assert_array_equal(vec.step(actions)[1], [1.0, 5.0, 1.0])
        vec.set_reward_shaping({"scale": -2.0})
        np.testing.assert_array_equal(vec.step(actions)[1], [-2.0, -2.0, -2.0])
