"""Helpers of the sf-cli tests: Click's runner, a real ``python -m sf_cli`` subprocess, an env module, fast args."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

# A registered env with both registry hooks: its own argument, and a default override (the "env" layer).
ENV_MODULE = textwrap.dedent(
    """
    import gymnasium
    from sf_registry import register_env

    def make_cli_test_env(full_env_name, cfg=None, env_config=None, render_mode=None):
        return gymnasium.make("CartPole-v1", render_mode=render_mode)

    def add_cli_test_args(env_name, parser, evaluation=False):
        parser.add_argument("--cli_test_arg", default="plain", type=str, help="An argument of the test env.")

    def cli_test_defaults(env_name, parser):
        parser.set_defaults(gamma=0.95, cli_test_arg="from_env")

    register_env(
        "cli_test_env",
        make_cli_test_env,
        add_extra_params_func=add_cli_test_args,
        env_override_defaults_func=cli_test_defaults,
    )
    """
)

# A training run that takes seconds: serial, small model and batch, a few thousand env steps.
FAST_TRAIN_ARGS = [
    "--serial_mode",
    "--device=cpu",
    "--use_rnn=False",
    "--encoder_mlp_layers",
    "32",
    "--num_workers=1",
    "--num_envs_per_worker=4",
    "--rollout=16",
    "--batch_size=256",
    "--experiment_summaries_interval=1",
    "--seed=1",
]


@pytest.fixture
def runner() -> CliRunner:
    """Click's test runner (stderr kept apart from stdout)."""
    return CliRunner()


@pytest.fixture(scope="session")
def env_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A .py file that registers ``cli_test_env`` with both hooks (import it with ``--env-module``).

    One file for the session: imported in-process, its module name can belong to one file only.
    """
    path = tmp_path_factory.mktemp("env_module") / "cli_test_envs.py"
    path.write_text(ENV_MODULE, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def fast_train_args() -> list[str]:
    """Parameters of a training run that takes seconds (serial, small model and batch)."""
    return list(FAST_TRAIN_ARGS)


@pytest.fixture(scope="session")
def sf_cli_process():
    """Runs ``python -m sf_cli`` as a real process: ``sf_cli_process(args, cwd)`` -> CompletedProcess."""
    return run_sf_cli


def run_sf_cli(
    args: list[str], cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m sf_cli ARGS`` as a real process in ``cwd``; returns the completed process (text output)."""
    full_env = dict(os.environ)
    full_env.update({"PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"})
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sf_cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
