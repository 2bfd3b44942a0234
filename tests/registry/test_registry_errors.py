"""The registry's errors: each names the bad value and what would be accepted."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

from sf_registry import (
    EnvNotFoundError,
    EnvRegistryError,
    InvalidEnvError,
    InvalidEnvFactoryError,
    InvalidEnvNameError,
    env_spec,
    list_envs,
    make_env,
    register_env,
)


class BadSpacesEnv(gymnasium.Env):
    """A real env class whose spaces a test can spoil one at a time."""

    def __init__(self, observation_space, action_space):
        self.observation_space = observation_space
        self.action_space = action_space
        self.closed = False

    def reset(self, *, seed=None, options=None):
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(2, dtype=np.float32), 0.0, True, False, {}

    def close(self):
        self.closed = True


def test_unknown_name_lists_closest_registered_and_gymnasium_names(unique_name, corridor_factory):
    name = unique_name("corridor")
    register_env(name, corridor_factory)
    typo = name.replace("corridor", "coridor")

    with pytest.raises(EnvNotFoundError) as caught:
        make_env(typo)

    assert name in caught.value.close_matches
    assert caught.value.name == typo
    assert repr(name) in str(caught.value) and repr(typo) in str(caught.value)
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, EnvRegistryError)

    with pytest.raises(EnvNotFoundError, match=r"closest names: 'CartPole-v1'") as caught:
        env_spec("cartpole-v1")
    assert caught.value.close_matches[0] == "CartPole-v1"


def test_unknown_name_far_from_everything_says_how_to_list(unique_name):
    with pytest.raises(EnvNotFoundError, match=r"no known name is close.*list_envs\(\)") as caught:
        make_env("qqqqqqqqqqqqqqqqqqqq")
    assert caught.value.close_matches == ()
    assert not str(caught.value).startswith("'"), "the KeyError message must not be wrapped in quotes"


def test_non_callable_factory_is_rejected_at_registration(unique_name):
    name = unique_name("not_callable")
    with pytest.raises(InvalidEnvFactoryError, match=rf"factory of env '{name}' must be callable.*int 42"):
        register_env(name, 42)
    with pytest.raises(EnvNotFoundError):
        env_spec(name)


def test_a_string_that_is_not_a_reference_is_rejected(unique_name):
    with pytest.raises(InvalidEnvFactoryError, match=r"'CartPole', which is not a 'module:attr' reference"):
        register_env(unique_name("string"), "CartPole")


def test_factory_that_cannot_take_the_spec_arguments_is_rejected(unique_name):
    def make_without_arguments():
        return gymnasium.make("CartPole-v1")

    with pytest.raises(InvalidEnvFactoryError, match=r"make_without_arguments.*signature \(\).*full_env_name"):
        register_env(unique_name("no_args"), make_without_arguments)


def test_hooks_must_be_callable(unique_name, corridor_factory):
    with pytest.raises(InvalidEnvFactoryError, match=r"add_extra_params_func of env .* got str 'oops'"):
        register_env(unique_name("hook"), corridor_factory, add_extra_params_func="oops")
    with pytest.raises(InvalidEnvFactoryError, match=r"env_override_defaults_func .* got dict"):
        register_env(unique_name("hook"), corridor_factory, env_override_defaults_func={"gamma": 0.9})


@pytest.mark.parametrize("bad_name", ["", "has space", None, 3])
def test_bad_env_names_are_rejected(bad_name, corridor_factory):
    with pytest.raises(InvalidEnvNameError, match=r"non-empty str without whitespace, got"):
        register_env(bad_name, corridor_factory)


def test_looking_up_a_non_string_name_says_so():
    with pytest.raises(InvalidEnvNameError, match=r"must be a str, got int 7"):
        make_env(7)


def test_factory_returning_none_is_named(unique_name):
    def make_nothing(full_env_name, cfg=None, env_config=None, render_mode=None):
        gymnasium.make("CartPole-v1")  # forgot the return

    name = unique_name("returns_none")
    register_env(name, make_nothing)
    with pytest.raises(InvalidEnvError, match=rf"make_nothing of env '{name}' returned None.*forget to return"):
        make_env(name)


def test_factory_returning_a_non_env_is_named(unique_name):
    def make_dict(full_env_name, cfg=None, env_config=None, render_mode=None):
        return {"obs": 0}

    name = unique_name("returns_dict")
    register_env(name, make_dict)
    with pytest.raises(InvalidEnvError, match=rf"'{name}' returned a builtins.dict .*must return a gymnasium.Env"):
        make_env(name)


@pytest.mark.parametrize(
    ("observation_space", "action_space", "bad"),
    [
        ((2,), spaces.Discrete(2), "observation_space"),
        (spaces.Box(-1.0, 1.0, shape=(2,)), 3, "action_space"),
        (spaces.Box(-1.0, 1.0, shape=(2,)), None, "action_space"),
    ],
)
def test_env_whose_space_is_not_a_gymnasium_space_is_named_and_closed(
    unique_name, observation_space, action_space, bad
):
    made = []

    def make_bad(full_env_name, cfg=None, env_config=None, render_mode=None):
        made.append(BadSpacesEnv(observation_space, action_space))
        return made[-1]

    name = unique_name("bad_space")
    register_env(name, make_bad)
    with pytest.raises(
        InvalidEnvError, match=rf"'{name}'.*has an {bad} that is not a gymnasium.spaces.Space: "
    ) as caught:
        make_env(name)
    assert repr(action_space if bad == "action_space" else observation_space) in str(caught.value)
    assert made[0].closed


def test_env_without_a_space_attribute_says_it_is_missing(unique_name):
    class NoSpacesEnv(gymnasium.Env):
        def reset(self, *, seed=None, options=None):
            return 0, {}

        def step(self, action):
            return 0, 0.0, True, False, {}

    name = unique_name("no_spaces")
    register_env(name, lambda full_env_name, cfg=None, env_config=None, render_mode=None: NoSpacesEnv())
    with pytest.raises(InvalidEnvError, match=r"has an observation_space .*: the env has no such attribute"):
        make_env(name)


def test_lazy_reference_to_a_missing_module_fails_at_make_naming_it(unique_name):
    name = unique_name("missing_module")
    register_env(name, "no_such_module_for_sf_tests:make")
    with pytest.raises(InvalidEnvFactoryError, match=rf"'{name}'.*cannot import module 'no_such_module_for_sf_tests'"):
        make_env(name)


def test_lazy_reference_to_a_missing_or_non_callable_attribute(unique_name):
    missing = unique_name("missing_attr")
    register_env(missing, "math:no_such_function")
    with pytest.raises(InvalidEnvFactoryError, match=r"names 'no_such_function', which 'math' does not define"):
        make_env(missing)
    not_callable = unique_name("pi")
    register_env(not_callable, "math:pi")
    with pytest.raises(InvalidEnvFactoryError, match=r"'math:pi' names a float, not a callable"):
        make_env(not_callable)


def test_listing_an_unknown_source_names_the_accepted_ones():
    with pytest.raises(ValueError, match=r"\['gym'\].*'registered', 'entry point', 'gymnasium'"):
        list_envs(sources="gym")
