"""The package itself: runnable docstring examples, and dependencies on gymnasium and attrs only.

(That importing sf_registry does not import torch is checked in a subprocess by tests/workspace/test_layers.py.)
"""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

import sf_registry

MODULES = ["sf_registry"] + [f"sf_registry.{info.name}" for info in pkgutil.iter_modules(sf_registry.__path__)]


@pytest.fixture
def restored_registry():
    """The examples register envs; take them out again so other tests see the registry as it was."""
    from sf_registry._registry import _REGISTRY

    before = dict(_REGISTRY._registered)
    yield
    _REGISTRY._registered.clear()
    _REGISTRY._registered.update(before)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name, restored_registry):
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_imports_only_declared_dependencies_and_the_standard_library():
    # numpy is gymnasium's own dependency, so it is always there; anything else would be undeclared.
    allowed = {"gymnasium", "attrs", "numpy", "sf_registry"} | set(sys.stdlib_module_names)
    imported = set()
    for path in Path(sf_registry.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert imported - allowed == set(), f"sf_registry imports {sorted(imported - allowed)}"
    assert {"gymnasium", "attrs"} <= imported


def test_public_names_are_curated():
    assert sf_registry.__version__ == "0.1.0"
    for name in sf_registry.__all__:
        assert not name.startswith("_") or name == "__version__"
    assert {"register_env", "make_env", "EnvConfig", "EnvSpec", "env_spec", "list_envs", "import_env_module"} <= set(
        sf_registry.__all__
    )
    assert "sf_registry.EnvNotFoundError" in repr(sf_registry.EnvNotFoundError)
