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
