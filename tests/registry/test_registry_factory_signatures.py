"""Factories are called with four positional arguments, as Sample Factory 2 calls them; parameter names are free."""

from __future__ import annotations

import re

import gymnasium
import pytest

from sf_registry import EnvConfig, InvalidEnvFactoryError, make_env, register_env

CALLS: list[tuple] = []


def sf_style_underscored(full_env_name, cfg=None, _env_config=None, render_mode=None):
    """The signature of Sample Factory 2's gym example factory."""
    CALLS.append(("underscored", full_env_name, cfg, _env_config, render_mode))
    return gymnasium.make("CartPole-v1", render_mode=render_mode)


def sf_style_kwargs(env_name, _cfg, _env_config, render_mode=None, **kwargs):
    """The signature of Sample Factory 2's mujoco/brax example factories."""
    CALLS.append(("kwargs", env_name, _cfg, _env_config, render_mode, kwargs))
    return gymnasium.make("CartPole-v1", render_mode=render_mode)


def positional_only(name, cfg, env_config, render_mode, /):
    CALLS.append(("positional_only", name, cfg, env_config, render_mode))
    return gymnasium.make("CartPole-v1", render_mode=render_mode)


def var_positional(*args):
    CALLS.append(("var_positional", *args))
    return gymnasium.make("CartPole-v1", render_mode=args[3])


class FactoryObject:
    """A bound method, as Sample Factory 2's dmlab example registers (``env_factory.make_env``)."""

    def make_env(self, env_name, cfg, env_config, render_mode):
        CALLS.append(("bound_method", env_name, cfg, env_config, render_mode))
        return gymnasium.make("CartPole-v1", render_mode=render_mode)


@pytest.mark.parametrize(
    ("factory", "tag"),
    [
        (sf_style_underscored, "underscored"),
        (sf_style_kwargs, "kwargs"),
        (positional_only, "positional_only"),
        (var_positional, "var_positional"),
        (FactoryObject().make_env, "bound_method"),
    ],
)
def test_any_factory_that_takes_four_positional_arguments_is_accepted_and_called_by_position(factory, tag, unique_name):
    name = unique_name(tag)
    register_env(name, factory)
    cfg, env_config = {"gamma": 0.9}, EnvConfig(worker_index=1, vector_index=0, env_id=3)
    CALLS.clear()

    env = make_env(name, cfg=cfg, env_config=env_config, render_mode="rgb_array")

    assert env.action_space == gymnasium.spaces.Discrete(2)
    assert len(CALLS) == 1
    call = CALLS[0]
    assert call[0] == tag
    assert call[1] == name and call[2] is cfg and call[3] is env_config and call[4] == "rgb_array"
    if tag == "kwargs":
        assert call[5] == {}, "nothing is passed by keyword"


def test_make_env_without_arguments_passes_none_by_position(unique_name):
    name = unique_name("defaults")
    register_env(name, sf_style_kwargs)
    CALLS.clear()
    make_env(name)
    assert [("kwargs", name, None, None, None, {})] == CALLS


def test_a_lazy_reference_to_a_positional_factory_works(unique_name):
    name = unique_name("lazy")
    register_env(name, f"{__name__}:sf_style_underscored")
    CALLS.clear()
    make_env(name, cfg="the cfg")
    assert [("underscored", name, "the cfg", None, None)] == CALLS


def two_arguments(name, cfg):
    return gymnasium.make("CartPole-v1")


def keyword_only(*, name):
    return gymnasium.make("CartPole-v1")


def required_keyword_after_four(full_env_name, cfg, env_config, render_mode, *, seed):
    return gymnasium.make("CartPole-v1")


def five_positional(full_env_name, cfg, env_config, render_mode, extra):
    return gymnasium.make("CartPole-v1")


@pytest.mark.parametrize(
    ("factory", "signature"),
    [
        (two_arguments, r"\(name, cfg\)"),
        (keyword_only, r"\(\*, name\)"),
        (required_keyword_after_four, r"\(full_env_name, cfg, env_config, render_mode, \*, seed\)"),
        (five_positional, r"\(full_env_name, cfg, env_config, render_mode, extra\)"),
    ],
)
def test_a_factory_that_cannot_take_four_positional_arguments_is_refused_with_its_signature(
    factory, signature, unique_name
):
    name = unique_name("bad")
    with pytest.raises(InvalidEnvFactoryError) as caught:
        register_env(name, factory)
    message = str(caught.value)
    assert factory.__qualname__ in message and repr(name) in message
    assert re.search(signature, message), message
    assert "make_env_func(full_env_name, cfg, env_config, render_mode)" in message
    assert "four positional arguments" in message and "whatever their names" in message


def test_a_lazy_reference_to_a_bad_factory_is_refused_at_make_env(unique_name):
    name = unique_name("lazy_bad")
    register_env(name, f"{__name__}:two_arguments")
    with pytest.raises(InvalidEnvFactoryError, match=r"two_arguments.*\(name, cfg\).*four positional arguments"):
        make_env(name)
