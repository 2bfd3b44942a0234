"""Discovery without code changes: ``sf.envs`` entry points of installed distributions, modules named at run time."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sf_registry import (
    EnvModuleImportError,
    EnvRegistryWarning,
    env_spec,
    import_env_module,
    list_envs,
    load_env_entry_points,
    make_env,
    register_env,
)

CORRIDOR_MODULE = """
    import gymnasium
    import numpy as np
    from gymnasium import spaces


    class Corridor(gymnasium.Env):
        def __init__(self, length):
            self.length = length
            self.observation_space = spaces.Box(0.0, float(length), shape=(1,), dtype=np.float32)
            self.action_space = spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.position = 0
            return np.array([0.0], dtype=np.float32), {}

        def step(self, action):
            self.position += 1 if action == 1 else 0
            done = self.position >= self.length
            return np.array([self.position], dtype=np.float32), float(done), done, False, {}


    def make_short(full_env_name, cfg=None, env_config=None, render_mode=None):
        return Corridor(3)


    def make_long(full_env_name, cfg=None, env_config=None, render_mode=None):
        return Corridor(30)
"""


def test_entry_point_envs_are_listed_without_import_and_made_lazily(unique_name, write_module, write_distribution):
    module = unique_name("corridor_plugin")
    write_module(module, CORRIDOR_MODULE)
    short, long = unique_name("short_corridor"), unique_name("long_corridor")
    write_distribution("sf-corridor-plugin", {short: f"{module}:make_short", long: f"{module}:make_long"})

    found = {spec.name: spec for spec in load_env_entry_points()}

    assert found[short].source == "entry point"
    assert found[short].origin == "sf-corridor-plugin"
    assert found[short].make_env_func == f"{module}:make_short"
    listed = {spec.name: spec for spec in list_envs(sources="entry point")}
    assert {short, long} <= listed.keys()
    assert env_spec(long).source == "entry point"
    assert module not in sys.modules, "listing must not import the plugin"

    env = make_env(long)

    assert env.length == 30
    assert module in sys.modules
    assert env_spec(long).make_env_func is sys.modules[module].make_long
    assert make_env(short).length == 3


def test_entry_point_envs_are_found_in_a_fresh_process(unique_name, site_dir, write_module, write_distribution):
    module = unique_name("corridor_plugin")
    write_module(module, CORRIDOR_MODULE)
    name = unique_name("corridor")
    write_distribution("sf-fresh-plugin", {name: f"{module}:make_short"})
    code = (
        "import sf_registry\n"
        f"spec = sf_registry.env_spec({name!r})\n"
        f"env = sf_registry.make_env({name!r})\n"
        "obs, _ = env.reset(seed=0)\n"
        "print(spec.source, spec.origin, env.length, obs.shape)\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site_dir), os.environ.get("PYTHONPATH", "")])}

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["entry", "point", "sf-fresh-plugin", "3", "(1,)"]


def test_a_plugin_module_that_registers_its_env_on_import_brings_its_hooks(
    unique_name, write_module, write_distribution
):
    module = unique_name("self_registering_plugin")
    name = unique_name("hooked_corridor")
    write_module(
        module,
        CORRIDOR_MODULE
        + f"""

    from sf_registry import register_env

    def add_args(env_name, parser, evaluation=False):
        parser.add_argument("--corridor_length", type=int, default=3)

    register_env({name!r}, make_short, add_extra_params_func=add_args)
    """,
    )
    write_distribution("sf-hooked-plugin", {name: f"{module}:make_short"})
    load_env_entry_points()
    assert env_spec(name).source == "entry point" and env_spec(name).add_extra_params_func is None

    assert make_env(name).length == 3

    spec = env_spec(name)
    assert spec.source == "registered"
    assert spec.add_extra_params_func is sys.modules[module].add_args


def test_registered_name_wins_over_an_entry_point(unique_name, write_module, write_distribution, corridor_factory):
    module = unique_name("corridor_plugin")
    write_module(module, CORRIDOR_MODULE)
    name = unique_name("both")
    write_distribution("sf-shadowed-plugin", {name: f"{module}:make_long"})
    load_env_entry_points()
    register_env(name, corridor_factory)

    assert env_spec(name).source == "registered"
    assert type(make_env(name)).__name__ == "CorridorEnv"
    assert [spec.source for spec in list_envs() if spec.name == name] == ["registered"]


def test_malformed_and_duplicate_entry_points_are_skipped_with_warnings(unique_name, write_distribution):
    good, bad = unique_name("good"), unique_name("bad")
    write_distribution("sf-first-plugin", {good: "first_plugin_module:make", bad: "not a reference"})
    write_distribution("sf-second-plugin", {good: "second_plugin_module:make"})

    with pytest.warns(EnvRegistryWarning) as caught:
        found = {spec.name: spec for spec in load_env_entry_points()}

    messages = " | ".join(str(warning.message) for warning in caught)
    assert f"skipping entry point {bad!r}" in messages and "'not a reference'" in messages
    assert "sf-first-plugin" in messages and "sf-second-plugin" in messages
    assert bad not in found
    assert found[good].origin in {"sf-first-plugin", "sf-second-plugin"}


def test_entry_points_leave_with_their_distribution(unique_name, site_dir, write_distribution):
    name = unique_name("temporary")
    dist_info = write_distribution("sf-temporary-plugin", {name: "temporary_module:make"})
    assert name in {spec.name for spec in load_env_entry_points()}

    (dist_info / "entry_points.txt").unlink()
    (dist_info / "METADATA").unlink()
    dist_info.rmdir()

    assert name not in {spec.name for spec in load_env_entry_points()}


def test_import_env_module_by_name_registers_its_envs(unique_name, write_module):
    module = unique_name("script_envs")
    name = unique_name("script_corridor")
    write_module(
        module,
        CORRIDOR_MODULE
        + f"""

    from sf_registry import register_env
    register_env({name!r}, make_long)
    """,
    )

    imported = import_env_module(module)

    assert imported is sys.modules[module]
    spec = env_spec(name)
    assert (spec.source, spec.origin) == ("registered", module)
    assert make_env(name).length == 30


def test_import_env_module_by_file_path(unique_name, tmp_path):
    directory = tmp_path / "scripts"
    directory.mkdir()
    module = unique_name("file_envs")
    name = unique_name("file_corridor")
    path = directory / f"{module}.py"
    path.write_text(
        "import gymnasium\n"
        "from sf_registry import register_env\n"
        "def make(full_env_name, cfg=None, env_config=None, render_mode=None):\n"
        "    return gymnasium.make('CartPole-v1', render_mode=render_mode)\n"
        f"register_env({name!r}, make)\n"
    )
    try:
        import_env_module(str(path))
        assert env_spec(name).origin == module
        assert make_env(name).spec.id == "CartPole-v1"
    finally:
        sys.path.remove(str(directory.resolve()))


def test_import_env_module_errors_name_the_module_and_the_cause(unique_name, write_module, tmp_path):
    missing = unique_name("no_such_env_module")
    with pytest.raises(EnvModuleImportError, match=rf"cannot import env module '{missing}': no module named"):
        import_env_module(missing)
    with pytest.raises(EnvModuleImportError, match=r"no module named 'no_such_package_for_sf'"):
        import_env_module("no_such_package_for_sf.envs")

    broken = unique_name("broken_envs")
    write_module(broken, "import no_such_dependency_of_sf_envs\n")
    with pytest.raises(
        EnvModuleImportError, match=rf"importing env module '{broken}' raised ModuleNotFoundError: .*dependency"
    ) as caught:
        import_env_module(broken)
    assert isinstance(caught.value, ImportError)

    raising = unique_name("raising_envs")
    write_module(raising, "raise RuntimeError('simulator not found')\n")
    with pytest.raises(EnvModuleImportError, match=r"raised RuntimeError: simulator not found"):
        import_env_module(raising)

    with pytest.raises(EnvModuleImportError, match=r"no such .py file"):
        import_env_module(str(tmp_path / "absent.py"))
    with pytest.raises(EnvModuleImportError, match=r"dotted module name or a .py path, got ''"):
        import_env_module("")
