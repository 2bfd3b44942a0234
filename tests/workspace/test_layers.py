"""Workspace-wide rules: the lower layers import without torch, every package has its version and public surface."""

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["sf_registry", "sf_config", "sf_runtime", "sf_cli", "sf_examples", "sample_factory"]


@pytest.mark.parametrize("module", ["sf_registry", "sf_config"])
def test_lower_layers_import_without_torch(module):
    code = f"import sys, {module}; sys.exit(1 if 'torch' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"importing {module} loaded torch or failed: {result.stderr}"


@pytest.mark.parametrize("name", PACKAGES)
def test_package_has_version_and_curated_all(name):
    module = importlib.import_module(name)
    assert isinstance(module.__version__, str)
    assert "__version__" in module.__all__
    for public in module.__all__:
        assert hasattr(module, public), f"{name}.__all__ names {public!r}, which the package does not define"
