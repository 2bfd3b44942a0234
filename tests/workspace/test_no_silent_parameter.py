"""No silent parameter: every parameter of the schema is read somewhere, or refused at any value but its default.

A reader is a use of the name as an attribute or a key (``cfg.name``, ``"name"``) in the code that runs an
experiment: sf_runtime, sf_cli, and the env integrations of sf_examples (env-specific parameters such as
``env_framestack``). A refusal is a validation rule that rejects a non-default value with a message naming the
parameter (sf-config's README lists them, with the reason).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sf_config import PARAMETERS, ConfigError, make_cfg

ROOT = Path(__file__).resolve().parents[2]
READER_PACKAGES = ("sf-runtime/src/sf_runtime", "sf-cli/src/sf_cli", "sf-examples/src/sf_examples")


def _code_without_comments() -> str:
    texts = []
    for package in READER_PACKAGES:
        for path in sorted((ROOT / "packages" / package).rglob("*.py")):
            texts.append("\n".join(line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()))
    return "\n".join(texts)


CODE = _code_without_comments()


def has_reader(name: str) -> bool:
    return re.search(rf"\.{name}\b|[\"']{name}[\"']", CODE) is not None


def non_default_value(param):
    if param.type is bool:
        return not param.default
    if param.type is list:
        return [int(param.low or 0) + 1]
    if param.choices:
        return next(c for c in param.choices if c != param.default)
    if param.type is str:
        return "other"
    if param.type is int:
        return (
            (param.default or 0) + 1 if param.high is None or (param.default or 0) < param.high else param.default - 1
        )
    return (param.default or 0.0) * 0.5 + 0.25


def refusal(name: str) -> str | None:
    param = PARAMETERS[name]
    try:
        make_cfg(evaluation=param.evaluation, **{name: non_default_value(param)})
    except ConfigError as exc:
        return str(exc) if name in str(exc) else None
    return None


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_every_parameter_is_read_or_refused(name):
    if has_reader(name):
        return
    message = refusal(name)
    assert message, (
        f"parameter {name} is silent: nothing in {', '.join(READER_PACKAGES)} reads it, and a non-default value is "
        "not refused by sf_config's validation. Implement it, or add a rule that rejects a non-default value and says "
        "why (and list it in sf-config's README)"
    )


@pytest.mark.parametrize("name", ["algo", "env_gpu_actions", "actor_worker_gpus", "benchmark"])
def test_refusals_say_why(name):
    message = refusal(name)
    assert message is not None
    assert "not supported" in message or "not available yet" in message
