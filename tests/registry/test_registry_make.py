"""register_env and make_env: factories called with the spec's signature, gymnasium fallback, re-registration."""

from __future__ import annotations

import argparse
import pickle
import sys
import warnings

import gymnasium
import numpy as np
import pytest

import sf_registry
from sf_registry import EnvConfig, EnvRegistryWarning, env_spec, make_env, register_env


def test_factory_receives_name_cfg_env_config_and_render_mode(unique_name, corridor_factory):
    name = unique_name("corridor")
    register_env(name, corridor_factory)
    cfg = {"gamma": 0.9, "custom_argument": "value"}
    env_config = EnvConfig(worker_index=2, vector_index=1, env_id=5)

    env = make_env(name, cfg=cfg, env_config=env_config, render_mode="rgb_array")

    assert env.full_env_name == name
    assert env.cfg is cfg
    assert env.env_config is env_config and env.env_config["env_id"] == 5
    assert env.render_mode == "rgb_array"
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        obs, reward, terminated, truncated, _ = env.step(1)
    assert not truncated
    assert terminated and reward == 1.0 and obs[0] == 5.0


def test_make_env_defaults_pass_none_like_the_spec(unique_name, corridor_factory):
    name = unique_name("corridor")
    register_env(name, corridor_factory)
    env = make_env(name)
    assert (env.cfg, env.env_config, env.render_mode) == (None, None, None)


def test_a_class_with_the_factory_signature_is_a_factory(unique_name, corridor_factory):
    corridor_class = type(corridor_factory("x"))
    name = unique_name("class_factory")
    register_env(name, corridor_class)
    assert isinstance(make_env(name), corridor_class)


def test_gymnasium_ids_work_unregistered_with_render_mode():
    env = make_env("CartPole-v1", render_mode="rgb_array")
    try:
        obs, _ = env.reset(seed=3)
        assert obs.shape == (4,)
        frame = env.render()
        assert isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3
    finally:
        env.close()
    spec = env_spec("CartPole-v1")
    assert spec.source == "gymnasium"
    assert spec.origin == "gymnasium.envs.classic_control.cartpole:CartPoleEnv"


def test_envs_registered_in_gymnasium_at_run_time_are_found(unique_name, corridor_factory):
    gym_id = f"{unique_name('GymCorridor')}-v0"
    gymnasium.register(gym_id, entry_point=lambda render_mode=None: corridor_factory(gym_id, render_mode=render_mode))
    try:
        env = make_env(gym_id)
        assert env.unwrapped.full_env_name == gym_id
        assert env_spec(gym_id).source == "gymnasium"
    finally:
        del gymnasium.registry[gym_id]


def test_registered_name_shadows_a_gymnasium_id(unique_name, corridor_factory):
    gym_id = f"{unique_name('Shadowed')}-v0"
    gymnasium.register(gym_id, entry_point="gymnasium.envs.classic_control.cartpole:CartPoleEnv")
    try:
        assert env_spec(gym_id).source == "gymnasium"
        register_env(gym_id, corridor_factory)
        assert env_spec(gym_id).source == "registered"
        assert type(make_env(gym_id)).__name__ == "CorridorEnv"
        assert [spec.source for spec in sf_registry.list_envs() if spec.name == gym_id] == ["registered"]
    finally:
        del gymnasium.registry[gym_id]


def test_re_registering_the_same_factory_is_silent_and_keeps_new_hooks(unique_name, corridor_factory):
    name = unique_name("again")
    register_env(name, corridor_factory)

    def add_args(env_name, parser, evaluation=False):
        parser.add_argument("--corridor_length", type=int, default=5)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = register_env(name, corridor_factory, add_extra_params_func=add_args)
    assert env_spec(name) == spec
    assert env_spec(name).add_extra_params_func is add_args


def test_re_registering_a_different_factory_warns_and_replaces(unique_name, corridor_factory):
    name = unique_name("replaced")
    register_env(name, corridor_factory)

    def make_cartpole(full_env_name, cfg=None, env_config=None, render_mode=None):
        return gymnasium.make("CartPole-v1", render_mode=render_mode)

    with pytest.warns(EnvRegistryWarning, match=rf"{name}.*make_corridor.*make_cartpole"):
        register_env(name, make_cartpole)
    assert make_env(name).spec.id == "CartPole-v1"


def test_hooks_run_on_a_real_argparse_parser(unique_name, corridor_factory):
    calls = []

    def add_args(env_name, parser, evaluation=False):
        calls.append((env_name, evaluation))
        parser.add_argument("--custom_argument", default="value", type=str)

    def override_defaults(env_name, parser):
        parser.set_defaults(gamma=0.95, obs_scale=255.0)

    name = unique_name("hooked")
    register_env(name, corridor_factory, add_extra_params_func=add_args, env_override_defaults_func=override_defaults)
    parser = argparse.ArgumentParser()
    parser.add_argument("--gamma", type=float, default=0.99)

    spec = env_spec(name)
    spec.add_extra_params(parser, evaluation=True)
    spec.override_defaults(parser)
    args = parser.parse_args(["--custom_argument", "other"])

    assert calls == [(name, True)]
    assert (args.custom_argument, args.gamma, args.obs_scale) == ("other", 0.95, 255.0)


def test_env_defaults_table_is_a_layered_picklable_override_hook(unique_name, corridor_factory):
    base = sf_registry.EnvDefaults({"gamma": 0.9, "encoder_mlp_layers": [32]}, use_rnn=False)
    hook = sf_registry.EnvDefaults(base, gamma=0.95)
    name = unique_name("table")
    register_env(name, corridor_factory, env_override_defaults_func=hook)
    parser = argparse.ArgumentParser()

    env_spec(name).override_defaults(parser)
    args = parser.parse_args([])
    args.encoder_mlp_layers.append(64)  # a parse gets its own copy of a list

    assert vars(args) == {"gamma": 0.95, "encoder_mlp_layers": [32, 64], "use_rnn": False}
    assert dict(hook) == {"gamma": 0.95, "encoder_mlp_layers": [32], "use_rnn": False}
    assert dict(base)["gamma"] == 0.9
    assert pickle.loads(pickle.dumps(env_spec(name))).env_override_defaults_func == hook


def test_specs_without_hooks_leave_the_parser_alone():
    parser = argparse.ArgumentParser()
    spec = env_spec("CartPole-v1")
    spec.add_extra_params(parser)
    spec.override_defaults(parser)
    assert vars(parser.parse_args([])) == {}


def test_lazy_reference_is_imported_on_first_make(unique_name, write_module):
    module = unique_name("lazy_envs")
    write_module(
        module,
        """
        import gymnasium

        def make(full_env_name, cfg=None, env_config=None, render_mode=None):
            return gymnasium.make("MountainCar-v0", render_mode=render_mode)
        """,
    )
    name = unique_name("lazy")
    spec = register_env(name, f"{module}:make")
    assert spec.is_lazy and spec.origin == module
    assert module not in sys.modules

    env = make_env(name)

    assert env.spec.id == "MountainCar-v0"
    assert module in sys.modules
    assert not env_spec(name).is_lazy
    assert env_spec(name).make_env_func is sys.modules[module].make


def test_specs_pickle_with_factories_and_hooks_by_reference(unique_name, write_module):
    module = unique_name("picklable_envs")
    write_module(
        module,
        """
        import gymnasium

        def make(full_env_name, cfg=None, env_config=None, render_mode=None):
            return gymnasium.make("Acrobot-v1", render_mode=render_mode)

        def add_args(env_name, parser, evaluation=False):
            parser.add_argument("--link_length", type=float, default=1.0)
        """,
    )
    imported = __import__(module)
    name = unique_name("picklable")
    spec = register_env(name, imported.make, add_extra_params_func=imported.add_args)

    restored = pickle.loads(pickle.dumps(spec))

    assert restored == spec
    assert restored.make_env_func is imported.make and restored.add_extra_params_func is imported.add_args
    lazy = register_env(unique_name("picklable_lazy"), f"{module}:make")
    assert pickle.loads(pickle.dumps(lazy)) == lazy
