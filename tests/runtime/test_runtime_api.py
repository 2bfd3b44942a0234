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
