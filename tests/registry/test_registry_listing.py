"""list_envs: every env that can be made, once each, with its source and origin."""

from __future__ import annotations

import gymnasium

from sf_registry import list_envs, register_env


def test_lists_registered_and_gymnasium_envs_with_their_origin(unique_name, corridor_factory):
    name = unique_name("listed")
    register_env(name, corridor_factory)

    specs = list_envs()
    by_name = {spec.name: spec for spec in specs}

    assert len(by_name) == len(specs), "each name is listed once"
    assert (by_name[name].source, by_name[name].origin) == ("registered", corridor_factory.__module__)
    cartpole = by_name["CartPole-v1"]
    assert (cartpole.source, cartpole.origin) == ("gymnasium", "gymnasium.envs.classic_control.cartpole:CartPoleEnv")
    assert set(gymnasium.registry) <= by_name.keys()


def test_registered_first_then_entry_points_then_gymnasium_each_sorted(unique_name, corridor_factory):
    register_env(unique_name("zz_listed"), corridor_factory)
    register_env(unique_name("aa_listed"), corridor_factory)
    specs = list_envs()
    order = {"registered": 0, "entry point": 1, "gymnasium": 2}
    keys = [(order[spec.source], spec.name) for spec in specs]
    assert keys == sorted(keys)


def test_sources_filter(unique_name, corridor_factory):
    name = unique_name("filtered")
    register_env(name, corridor_factory)
    registered = list_envs(sources="registered")
    assert name in {spec.name for spec in registered}
    assert {spec.source for spec in registered} == {"registered"}
    only_gymnasium = list_envs(sources=["gymnasium"])
    assert {spec.source for spec in only_gymnasium} == {"gymnasium"}
    assert "CartPole-v1" in {spec.name for spec in only_gymnasium}
    assert list_envs(sources=()) == []
