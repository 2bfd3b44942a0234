"""Fixtures of the registry tests: unique env names, and a real site directory for installed distributions."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

import sf_registry


class CorridorEnv(gymnasium.Env):
    """A tiny real env: walk right along a corridor of length 5; remembers how its factory called it."""

    def __init__(self, full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
        self.full_env_name = full_env_name
        self.cfg = cfg
        self.env_config = env_config
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 5.0, shape=(1,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.position = 0
        self.closed = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.position = 0
        return np.array([self.position], dtype=np.float32), {}

    def step(self, action):
        self.position = max(0, self.position + (1 if action == 1 else -1))
        terminated = self.position >= 5
        return np.array([self.position], dtype=np.float32), float(terminated), terminated, False, {}

    def close(self):
        self.closed = True


def make_corridor(full_env_name: str, cfg: Any = None, env_config: Any = None, render_mode: str | None = None):
    """A module-level factory (it pickles by reference)."""
    return CorridorEnv(full_env_name, cfg, env_config, render_mode)


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Names that no other test (nor an earlier run in the same process) has registered."""

    def make(prefix: str = "env") -> str:
        return f"{prefix}_{uuid.uuid4().hex[:10]}"

    return make


@pytest.fixture
def site_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path for modules and ``*.dist-info`` distributions written by a test.

    Afterwards it leaves sys.path and the registry rescans its entry points, so no other test sees its envs.
    """
    site = tmp_path / "site"
    site.mkdir()
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        importlib.invalidate_caches()
        sf_registry.load_env_entry_points()


@pytest.fixture
def corridor_factory() -> Callable[..., CorridorEnv]:
    """The factory of :class:`CorridorEnv` (tests read the class from ``corridor_factory(...).__class__``)."""
    return make_corridor


@pytest.fixture
def write_module(site_dir: Path) -> Callable[[str, str], Path]:
    """Writes a module (a .py file) into the site directory: ``write_module(name, source)``."""

    def write(name: str, source: str) -> Path:
        path = site_dir / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        return path

    return write


@pytest.fixture
def write_distribution(site_dir: Path) -> Callable[..., Path]:
    """Writes an installed distribution (``name-version.dist-info``) declaring ``sf.envs`` entry points."""
    return lambda name, entry_points, version="1.0": _write_distribution(site_dir, name, entry_points, version)


def _write_distribution(site: Path, name: str, entry_points: dict[str, str], version: str) -> Path:
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = [f"[{sf_registry.ENTRY_POINT_GROUP}]"] + [f"{key} = {value}" for key, value in entry_points.items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    importlib.invalidate_caches()
    return dist_info
