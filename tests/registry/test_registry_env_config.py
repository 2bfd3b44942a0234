"""EnvConfig: attribute and key access, dict conversion, validation, pickling."""

from __future__ import annotations

import pickle

import pytest

from sf_registry import EnvConfig


def test_attribute_and_key_access_agree():
    env_config = EnvConfig(worker_index=3, vector_index=1, env_id=7)
    assert (env_config.worker_index, env_config.vector_index, env_config.env_id) == (3, 1, 7)
    assert (env_config["worker_index"], env_config["vector_index"], env_config["env_id"]) == (3, 1, 7)
    assert env_config.get("env_id") == 7 and env_config.get("missing", "default") == "default"
    assert "env_id" in env_config and "gamma" not in env_config


def test_defaults_and_dict_conversion():
    assert dict(EnvConfig()) == {"worker_index": 0, "vector_index": 0, "env_id": 0}
    assert dict(**EnvConfig(env_id=2))["env_id"] == 2
    assert len(EnvConfig()) == 3


def test_setting_by_key_or_attribute_is_validated():
    env_config = EnvConfig()
    env_config["env_id"] = 4
    env_config.vector_index = 2
    assert env_config == EnvConfig(worker_index=0, vector_index=2, env_id=4)
    with pytest.raises(ValueError, match=r"EnvConfig.env_id must be an int >= 0, got -1"):
        env_config["env_id"] = -1
    with pytest.raises(ValueError, match=r"EnvConfig.worker_index must be an int >= 0, got '1'"):
        EnvConfig(worker_index="1")
    with pytest.raises(ValueError, match=r"got True"):
        EnvConfig(vector_index=True)


def test_unknown_keys_name_the_accepted_ones():
    env_config = EnvConfig()
    with pytest.raises(KeyError, match=r"no key 'worker'.*worker_index, vector_index, env_id"):
        env_config["worker"]
    with pytest.raises(KeyError, match=r"no key 'seed'"):
        env_config["seed"] = 1
    with pytest.raises(AttributeError):
        env_config.seed = 1  # slotted: a typo cannot silently add an attribute


def test_pickles_for_worker_processes():
    env_config = EnvConfig(worker_index=1, vector_index=2, env_id=3)
    assert pickle.loads(pickle.dumps(env_config)) == env_config
