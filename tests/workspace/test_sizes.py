"""Size rules of the house: no function over 80 lines, and a module over 400 lines says why in its docstring."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGES = Path(__file__).resolve().parents[2] / "packages"
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 400


def _sources() -> list[Path]:
    return sorted(PACKAGES.glob("*/src/**/*.py"))


def test_the_rules_see_the_sources():
    assert len(_sources()) > 100


def test_no_function_is_over_80_lines():
    long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGES)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


def test_a_module_over_400_lines_says_why():
    unexplained = []
    for path in _sources():
        text = path.read_text()
        if text.count("\n") > MAX_MODULE_LINES:
            docstring = ast.get_docstring(ast.parse(text)) or ""
            if "400 lines" not in docstring:
                unexplained.append(f"{path.relative_to(PACKAGES)} ({text.count(chr(10))} lines)")
    assert not unexplained, "modules over 400 lines whose docstring does not say why (mention '400 lines'):\n" + (
        "\n".join(unexplained)
    )
