"""sf-examples touches only the public names of the layers: import-linter's contract, and every imported name is
in its layer's ``__all__``."""

import ast
import importlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sf_examples

LAYERS = {"sf_registry", "sf_config", "sf_runtime", "sf_cli"}
EXAMPLES_DIR = Path(sf_examples.__file__).parent
ROOT = Path(__file__).resolve().parents[2]


def _layer_imports():
    for path in sorted(EXAMPLES_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.split(".")[0] in LAYERS | {"sample_factory"}
            ):
                for alias in node.names:
                    yield path.relative_to(EXAMPLES_DIR), node.module, alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in LAYERS | {"sample_factory"}:
                        yield path.relative_to(EXAMPLES_DIR), alias.name, None


def test_examples_import_layers_only_by_their_top_level_public_names():
    imports = list(_layer_imports())
    assert len(imports) > 20  # the walk really sees the examples
    for path, module, name in imports:
        assert module in LAYERS, f"{path} imports {module}: only the layers' top-level packages are public"
        if name is not None:
            assert name in importlib.import_module(module).__all__, f"{path} imports {module}.{name}, not in __all__"


@pytest.mark.skipif(not (ROOT / "pyproject.toml").is_file(), reason="needs the workspace's import-linter config")
def test_import_linter_keeps_the_examples_contract():
    if importlib.util.find_spec("sample_factory") is None:
        pytest.skip("import-linter's config names every workspace package; sf-compat is not installed here")
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    done = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert "examples use only the public names of the layers KEPT" in done.stdout, done.stdout + done.stderr
