"""The public names of sf_runtime."""

from __future__ import annotations

import doctest
import importlib
import logging

import gymnasium
import pytest

import sf_runtime


def test_every_public_name_exists():
    missing = [name for name in sf_runtime.__all__ if not hasattr(sf_runtime, name)]
    assert missing == []
    assert callable(sf_runtime.run_rl) and callable(sf_runtime.enjoy)


def test_is_module_available():
    assert sf_runtime.is_module_available("json")
    assert not sf_runtime.is_module_available("surely_not_a_module_name")
    assert not sf_runtime.is_module_available("surely_not_a_package.child")


def test_script_helpers():
    assert isinstance(sf_runtime.log, logging.Logger) and sf_runtime.log.name == "sf_runtime"
    assert sf_runtime.ObsSpace is gymnasium.spaces.Space is sf_runtime.ActionSpace


@pytest.mark.parametrize(
    "module_name",
    ["sf_runtime.envs.spaces", "sf_runtime._script_utils", "sf_runtime.runners.runner", "sf_config._resolve"],
)
def test_docstring_examples_run(module_name):
    result = doctest.testmod(importlib.import_module(module_name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_stop_at_reward_waits_for_a_full_window_of_the_policy_then_stops_once_and_records():
    from sf_config import make_cfg

    cfg = make_cfg(env="CartPole-v1", num_policies=2, stats_avg=3)
    stop = sf_runtime.StopAtReward(10.0, policy_id=1)
    run = sf_runtime.ExperimentLifecycle(cfg, range(2), observers=[stop])

    run.record_episodes(0, [{"reward": 50.0}] * 3)  # another policy's episodes do not count
    run.record_episodes(1, [{"reward": 20.0}] * 2)  # not a full window yet
    run.add_env_steps(1, 100)
    stop.on_iteration(run)
    assert (stop.best, stop.reached_at_env_steps, run.stop_reason) == (-float("inf"), None, None)

    run.record_episodes(1, [{"reward": 2.0}])  # a full window, average 14
    run.add_env_steps(1, 50)
    stop.on_iteration(run)
    assert stop.best == 14.0 and stop.reached_at_env_steps == 150 and stop.reached_after >= 0.0
    assert run.stop_reason == "average reward 14.000 of policy 1 >= 10.0" and run.should_stop()

    run.record_episodes(1, [{"reward": 2.0}] * 3)  # below the target again: nothing more is requested
    stop.on_iteration(run)
    stop.on_finish(run)
    assert (stop.best, stop.reached_at_env_steps, stop.final_reward, stop.env_steps) == (14.0, 150, 2.0, 150)
