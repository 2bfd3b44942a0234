"""register_env_vector: an env source that is a vector already replaces single envs in batched sampling."""

import pickle

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

from sf_config import make_cfg
from sf_registry import register_env
from sf_runtime import EnvVector, register_env_vector, run_rl
from sf_runtime.envs import EnvError, LoopEnvVector, make_env_vector
from sf_runtime.envs import vector_factories as factories

ENV = "vector_factory_test_env"
EPISODE = 5


class CountEnv(gymnasium.Env):
    """The single env: observes its step count; reward = action; episodes of EPISODE steps."""

    observation_space = spaces.Box(0.0, 10.0, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(1, self.t, np.float32), float(action), self.t >= EPISODE, False, {}


class CountVector(EnvVector):
    """The same env, n at once in numpy (one call per step, as EnvPool would)."""

    made: list["CountVector"] = []

    def __init__(self, env_ids, seed):
        super().__init__(
            ENV,
            len(env_ids),
            len(env_ids),
            spaces.Dict(obs=CountEnv.observation_space),
            CountEnv.action_space,
            True,
            list(env_ids),
        )
        self.seed = seed
        self.t = np.zeros(len(env_ids), np.int64)
        self.calls = 0
        CountVector.made.append(self)

    def reset(self, obs_out=None):
        out = self._out(obs_out)
        self.t[:] = 0
        out["obs"][:, 0] = 0.0
        return out

    def step(self, actions, obs_out=None):
        out = self._out(obs_out)
        self.calls += 1
        self.t += 1
        self.rewards = np.asarray(actions, np.float32)
        self.terminated = self.t >= EPISODE
        self.truncated = np.zeros(self.num_envs, bool)
        episodes = [
            {"reward": 0.0, "length": EPISODE, "policy_agent": int(row)} for row in np.flatnonzero(self.terminated)
        ]
        out["obs"][:, 0] = self.t
        self.t[self.terminated] = 0
        out["obs"][self.terminated, 0] = 0.0
        return out, self.rewards, self.terminated, self.truncated, episodes


def make_count_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    return CountEnv()


def make_count_vector(full_env_name, cfg, env_ids, seed):
    return CountVector(env_ids, seed)


def make_wrong_vector(full_env_name, cfg, env_ids, seed):
    return CountVector(env_ids[:1], seed)


@pytest.fixture
def registered():
    register_env(ENV, make_count_env)
    register_env_vector(ENV, make_count_vector)
    CountVector.made.clear()
    yield
    factories._FACTORIES.pop(ENV, None)


def cfg_for(**overrides):
    overrides.setdefault("num_envs_per_worker", 4)
    overrides.setdefault("worker_num_splits", 1)
    return make_cfg(env=ENV, experiment="vector_factory_test", **overrides)


def test_batched_sampling_uses_the_registered_vector(registered):
    vec = make_env_vector(cfg_for(seed=3), 1, 0, 4, batched=True)
    assert isinstance(vec, CountVector) and vec.num_envs == 4
    assert vec.env_ids == [4, 5, 6, 7]  # worker 1 of 4 envs per worker
    assert vec.seed is not None
    obs = vec.reset()
    for _ in range(EPISODE - 1):
        _, _, terminated, _, episodes = vec.step(np.ones(4, np.int64))
        assert not terminated.any() and episodes == []
    obs, _rewards, terminated, _truncated, episodes = vec.step(np.ones(4, np.int64))
    assert terminated.all() and len(episodes) == 4 and (obs["obs"] == 0).all()


def test_single_envs_where_the_vector_does_not_apply(registered):
    assert isinstance(make_env_vector(cfg_for(), 0, 0, 2, batched=False), LoopEnvVector)
    assert isinstance(make_env_vector(cfg_for(), 0, 0, 2, batched=True, allow_native=False), LoopEnvVector)
    assert isinstance(make_env_vector(cfg_for(), 0, 0, 2, batched=True, render_mode="rgb_array"), LoopEnvVector)
    assert CountVector.made == []


def test_a_factory_that_returns_the_wrong_vector_is_an_env_error(registered):
    register_env_vector(ENV, make_wrong_vector)
    with pytest.raises(EnvError, match="must return an EnvVector of 4 envs"):
        make_env_vector(cfg_for(), 0, 0, 4, batched=True)
    with pytest.raises(TypeError, match="must be callable"):
        register_env_vector(ENV, "not a function")


def test_registrations_carry_the_vector_factory_to_child_processes(registered):
    from sf_runtime.registrations import snapshot_registrations

    snapshot = pickle.loads(pickle.dumps(snapshot_registrations(ENV)))
    assert ENV in snapshot.env_vectors
    factories._FACTORIES.pop(ENV)
    assert factories.env_vector_factory(ENV) is None
    snapshot.restore()
    assert factories.env_vector_factory(ENV) is make_count_vector


def test_serial_batched_training_steps_the_vector_once_per_rollout_step(registered, tmp_path):
    cfg = cfg_for(
        train_dir=str(tmp_path),
        serial_mode=True,
        batched_sampling=True,
        num_workers=1,
        num_envs_per_worker=8,
        use_rnn=False,
        rollout=8,
        recurrence=1,
        batch_size=32,
        num_batches_per_epoch=2,
        encoder_mlp_layers=[16],
        train_for_env_steps=512,
        device="cpu",
    )
    assert run_rl(cfg) == 0
    (vec,) = CountVector.made
    assert vec.calls >= 512 // 8  # all 8 envs in each call
