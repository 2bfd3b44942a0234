"""probe_env_info: env info read once, in a separate (spawned) process, optionally cached under train_dir."""

import pickle

import pytest
from gymnasium import spaces

from sf_config import make_cfg
from sf_runtime.envs import EnvInfo, EnvProbeError, probe_env_info


def test_probe_reads_cartpole_spaces_in_a_separate_process(tmp_path):
    cfg = make_cfg(env="CartPole-v1", experiment="probe", train_dir=str(tmp_path), env_frameskip=2)
    info = probe_env_info(cfg)
    assert isinstance(info, EnvInfo)
    assert isinstance(info.obs_space, spaces.Dict) and list(info.obs_space.spaces) == ["obs"]
    assert info.obs_space["obs"].shape == (4,)
    assert info.action_space == spaces.Discrete(2)
    assert info.num_agents == 1 and not info.is_multiagent
    assert info.frameskip == 2
    assert not info.native_vector  # env_frameskip=2: sf repeats actions, so gymnasium's vector env is not used
    assert pickle.loads(pickle.dumps(info)) == info


def test_probe_error_names_the_env_and_the_cause(tmp_path):
    cfg = make_cfg(env="CartPole-v1", experiment="probe", train_dir=str(tmp_path))
    cfg.env = "NoSuchEnvAnywhere-v3"
    with pytest.raises(EnvProbeError, match="NoSuchEnvAnywhere-v3"):
        probe_env_info(cfg)


def test_env_info_cache_is_written_and_reused(tmp_path):
    cfg = make_cfg(env="CartPole-v1", experiment="probe", train_dir=str(tmp_path), use_env_info_cache=True)
    info = probe_env_info(cfg)
    cache = tmp_path / "probe" / ".env_info_CartPole-v1.pkl"
    assert cache.is_file()
    assert info.native_vector
    # a cached record is returned without starting a probe: make the cache say something a probe never would
    with open(cache, "wb") as f:
        pickle.dump(EnvInfo(obs_space=info.obs_space, action_space=spaces.Discrete(7), num_agents=3), f)
    again = probe_env_info(cfg)
    assert again.num_agents == 3 and again.action_space == spaces.Discrete(7)


# A training script's env module: the probe process must find its factory although it never runs the script.
CUSTOM_ENV_MODULE = """
import os
from pathlib import Path

import gymnasium
import numpy as np
from gymnasium import spaces

from sf_runtime.envs import RewardShapingInterface


class ShapedTwoAgentEnv(gymnasium.Env, RewardShapingInterface):
    is_multiagent = True
    num_agents = 2
    observation_space = spaces.Dict({"pos": spaces.Box(-1.0, 1.0, (3,), np.float32)})
    action_space = spaces.Tuple((spaces.Discrete(3), spaces.Box(-1.0, 1.0, (2,), np.float32)))

    def __init__(self):
        Path(__file__).with_name("created_in_pid.txt").write_text(str(os.getpid()))

    def get_default_reward_shaping(self):
        return {"goal": 1.0, "step_penalty": -0.01}

    def set_reward_shaping(self, reward_shaping, agent_idx):
        pass

    def reset(self, *, seed=None, options=None):
        return [{"pos": np.zeros(3, np.float32)}] * 2, [{}, {}]

    def step(self, actions):
        return [{"pos": np.zeros(3, np.float32)}] * 2, [0.0, 0.0], [False] * 2, [False] * 2, [{}, {}]


def make_shaped_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    return ShapedTwoAgentEnv()


def make_nothing(full_env_name, cfg=None, env_config=None, render_mode=None):
    return None


def make_and_crash(full_env_name, cfg=None, env_config=None, render_mode=None):
    os._exit(3)  # like a simulator that takes its process down
"""


@pytest.fixture
def custom_env_module(tmp_path, monkeypatch):
    import importlib
    import sys

    module_dir = tmp_path / "user_code"
    module_dir.mkdir()
    (module_dir / "sf_probe_custom_env.py").write_text(CUSTOM_ENV_MODULE)
    monkeypatch.syspath_prepend(str(module_dir))  # the spawned probe inherits sys.path, as with a script's folder
    module = importlib.import_module("sf_probe_custom_env")
    yield module
    sys.modules.pop("sf_probe_custom_env", None)


def test_probe_of_a_registered_multi_agent_env_runs_in_another_process(tmp_path, custom_env_module):
    import os

    from sf_registry import register_env

    register_env("sf_probe_shaped_two_agents", custom_env_module.make_shaped_env)
    cfg = make_cfg(env="sf_probe_shaped_two_agents", experiment="probe", train_dir=str(tmp_path))
    info = probe_env_info(cfg)
    assert info.num_agents == 2 and info.is_multiagent
    assert list(info.obs_space.spaces) == ["pos"]
    assert isinstance(info.action_space, spaces.Tuple)
    assert info.reward_shaping_scheme == {"goal": 1.0, "step_penalty": -0.01}
    assert not info.native_vector
    created_in = int((tmp_path / "user_code" / "created_in_pid.txt").read_text())
    assert created_in != os.getpid()


def test_probe_of_a_factory_returning_none_names_the_problem(tmp_path, custom_env_module):
    from sf_registry import register_env

    register_env("sf_probe_returns_none", custom_env_module.make_nothing)
    cfg = make_cfg(env="sf_probe_returns_none", experiment="probe", train_dir=str(tmp_path))
    with pytest.raises(EnvProbeError, match=r"sf_probe_returns_none.*returned None"):
        probe_env_info(cfg)


def test_a_factory_that_cannot_be_sent_to_the_probe_is_a_clear_error(tmp_path):
    from sf_registry import register_env

    def local_factory(full_env_name, cfg=None, env_config=None, render_mode=None):
        return None

    register_env("sf_probe_local_factory", local_factory)
    cfg = make_cfg(env="sf_probe_local_factory", experiment="probe", train_dir=str(tmp_path))
    with pytest.raises(EnvProbeError, match="module-level function"):
        probe_env_info(cfg)


def test_a_probe_process_that_dies_is_a_clear_error(tmp_path, custom_env_module):
    from sf_registry import register_env

    register_env("sf_probe_crashes", custom_env_module.make_and_crash)
    cfg = make_cfg(env="sf_probe_crashes", experiment="probe", train_dir=str(tmp_path))
    with pytest.raises(EnvProbeError, match=r"sf_probe_crashes.*died without an answer \(exit code 3\)"):
        probe_env_info(cfg)
