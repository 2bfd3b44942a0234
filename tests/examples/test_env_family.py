"""The Atari and MuJoCo envs as EnvFamily instances, without their simulators: names, messages, registration."""

import sys

import pytest

from sf_examples.atari import atari_env
from sf_examples.env_family import EnvFamily
from sf_examples.mujoco import mujoco_env
from sf_registry import EnvDefaults, env_spec


@pytest.mark.parametrize(
    ("make_env", "name", "message"),
    [
        (atari_env.make_atari_env, "atari_zork", r"unknown Atari env 'atari_zork'.*atari_breakout"),
        (mujoco_env.make_mujoco_env, "mujoco_spider", r"unknown MuJoCo env 'mujoco_spider'.*mujoco_ant"),
    ],
)
def test_unknown_names_are_refused_naming_the_known_ones(make_env, name, message):
    with pytest.raises(ValueError, match=message):
        make_env(name)


@pytest.mark.parametrize(
    ("make_env", "name", "module", "message"),
    [
        (atari_env.make_atari_env, "atari_pong", "ale_py", r"Atari examples need ale-py: .*'sf-examples\[atari\]'"),
        (mujoco_env.make_mujoco_env, "mujoco_ant", "mujoco", r"MuJoCo examples need mujoco: .*'sf-examples\[mujoco\]'"),
    ],
)
def test_a_missing_simulator_names_the_extra_that_installs_it(monkeypatch, make_env, name, module, message):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    with pytest.raises(ImportError, match=message):
        make_env(name)


def test_every_name_of_a_family_is_registered_with_its_defaults_as_the_override_hook():
    ids = {"test_family_a": "A", "test_family_b": "B"}
    family = EnvFamily("Test", ids, mujoco_env.make_mujoco_env, {"gamma": 0.9}, extra="x")
    family.register()
    for name in ("test_family_a", "test_family_b"):
        spec = env_spec(name)
        assert spec.make_env_func is mujoco_env.make_mujoco_env
        assert spec.env_override_defaults_func == EnvDefaults(gamma=0.9)
    assert family.id_of("test_family_b") == "B"
    assert atari_env.atari_override_defaults == EnvDefaults(atari_env.ATARI_PPO_DEFAULTS)
