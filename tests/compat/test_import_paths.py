"""Every Sample Factory 2 import path of sf-compat gives the very objects of sf's layers (a facade, no copies), and
each name behaves as Sample Factory 2's scripts use it."""

import importlib
import logging
import pickle
import pkgutil
import re
import socket
from pathlib import Path

import gymnasium
import numpy as np
import pytest

import sf_config
import sf_registry
import sf_runtime

PATHS = {
    "sample_factory.cfg.arguments": {"parse_sf_args": sf_config, "parse_full_cfg": sf_config, "default_cfg": sf_config},
    "sample_factory.envs.env_utils": {
        "register_env": sf_registry,
        "TrainingInfoInterface": sf_runtime,
        "RewardShapingInterface": sf_runtime,
        "EnvCriticalError": sf_runtime,
        "get_default_reward_shaping": sf_runtime,
    },
    "sample_factory.envs.create_env": {"create_env": sf_runtime},
    "sample_factory.envs.env_wrappers": {
        name: sf_runtime
        for name in (
            "NoopResetEnv",
            "MaxAndSkipEnv",
            "EpisodicLifeEnv",
            "FireResetEnv",
            "ClipRewardEnv",
            "ResizeWrapper",
            "PixelFormatChwWrapper",
            "FrameStack",
            "atari_preprocessing",
            "NumpyObsWrapper",
            "RecordingWrapper",
            "RewardScalingWrapper",
            "TimeLimitWrapper",
        )
    },
    "sample_factory.train": {"run_rl": sf_runtime, "make_runner": sf_runtime},
    "sample_factory.enjoy": {"enjoy": sf_runtime},
    "sample_factory.algo.runners.runner": {"Runner": sf_runtime, "AlgoObserver": sf_runtime},
    "sample_factory.algo.utils.context": {"global_model_factory": sf_runtime},
    "sample_factory.algo.utils.torch_utils": {"calc_num_elements": sf_runtime},
    "sample_factory.algo.utils.misc": {"EPS": sf_runtime, "EPISODIC": sf_runtime, "ExperimentStatus": sf_runtime},
    "sample_factory.algo.utils.rl_utils": {"make_dones": sf_runtime, "samples_per_trajectory": sf_runtime},
    "sample_factory.algo.utils.spaces.discretized": {"Discretized": sf_runtime},
    "sample_factory.algo.utils.gymnasium_utils": {"convert_space": sf_runtime},
    "sample_factory.model.encoder": {"Encoder": sf_runtime, "make_img_encoder": sf_runtime},
    "sample_factory.model.model_utils": {"nonlinearity": sf_runtime, "model_device": sf_runtime},
    "sample_factory.utils.typing": {
        "Config": sf_config,
        "ObsSpace": sf_runtime,
        "ActionSpace": sf_runtime,
        "Env": sf_runtime,
        "PolicyID": sf_runtime,
    },
    "sample_factory.utils.utils": {
        "str2bool": sf_config,
        "is_module_available": sf_runtime,
        "log": sf_runtime,
        "debug_log_every_n": sf_runtime,
        "project_tmp_dir": sf_runtime,
        "experiment_dir": sf_config,
        "ensure_dir_exists": sf_runtime,
        "safe_ensure_dir_exists": sf_runtime,
        "static_vars": sf_runtime,
    },
    "sample_factory.utils.network": {"is_udp_port_available": sf_runtime},
    "sample_factory.utils.algo_version": {"ALGO_VERSION": sf_runtime},
    "sample_factory.launcher.run_description": {
        name: sf_runtime for name in ("RunDescription", "Experiment", "ParamGrid", "ParamList")
    },
    "sample_factory.launcher.launcher_utils": {"seeds": sf_runtime},
    "sample_factory.launcher.run": {"launcher_main": sf_runtime},
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_path_re_exports_the_public_names_of_the_layers(path):
    module = importlib.import_module(path)
    assert sorted(module.__all__) == sorted(PATHS[path])
    for name, layer in PATHS[path].items():
        assert name in layer.__all__, f"{layer.__name__} does not export {name} publicly"
        assert getattr(module, name) is getattr(layer, name)


def test_every_module_of_the_facade_is_listed_here_in_its_docstring_and_in_its_readme():
    import sample_factory

    modules = {
        info.name
        for info in pkgutil.walk_packages(sample_factory.__path__, "sample_factory.")
        if hasattr(importlib.import_module(info.name), "__all__")
    }
    assert modules == set(PATHS)
    readme = (Path(sample_factory.__file__).parents[2] / "README.md").read_text()
    for path, names in PATHS.items():
        for text in (sample_factory.__doc__, readme):
            assert f"`{path}`" in text
            for name in names:
                assert f"`{name}`" in text, f"{name} of {path} is missing from the table"


def test_the_facade_is_usable_the_sample_factory_way():
    from sample_factory.algo.utils.torch_utils import calc_num_elements
    from sample_factory.cfg.arguments import parse_full_cfg, parse_sf_args
    from sample_factory.model.model_utils import nonlinearity
    from sample_factory.utils.utils import is_module_available

    parser, partial = parse_sf_args(["--env=CartPole-v1", "--nonlinearity=tanh"])
    parser.set_defaults(gamma=0.95)
    cfg = parse_full_cfg(parser, ["--env=CartPole-v1", "--nonlinearity=tanh"])
    assert partial.env == "CartPole-v1" and cfg.gamma == 0.95
    activation = nonlinearity(cfg)
    assert type(activation).__name__ == "Tanh"
    import torch

    assert calc_num_elements(torch.nn.Conv2d(1, 4, 3), (1, 8, 8)) == 4 * 6 * 6
    assert is_module_available("gymnasium") and not is_module_available("no_such_module_anywhere")


# ---- each name behaves the way Sample Factory 2's scripts use it -------------------------------------------------


def test_default_cfg_is_a_full_default_configuration_to_make_envs_with():
    from sample_factory.cfg.arguments import default_cfg
    from sample_factory.envs.create_env import create_env

    cfg = default_cfg(env="CartPole-v1")
    assert (cfg.algo, cfg.env, cfg.experiment) == ("APPO", "CartPole-v1", "test")
    assert set(sf_config.PARAMETERS) - {n for n, p in sf_config.PARAMETERS.items() if p.evaluation} <= set(cfg)
    assert cfg.gamma == sf_config.PARAMETERS["gamma"].default
    assert default_cfg().env == "env"
    env = create_env("CartPole-v1", cfg=cfg)  # as Sample Factory 2's sample_env.py does
    try:
        obs, _ = env.reset()
        assert env.action_space == gymnasium.spaces.Discrete(2) and obs is not None
    finally:
        env.close()


def test_env_utils_reward_shaping_and_critical_errors():
    from sample_factory.envs.env_utils import EnvCriticalError, RewardShapingInterface, get_default_reward_shaping

    class Shaped(gymnasium.Wrapper, RewardShapingInterface):
        def get_default_reward_shaping(self):
            return {"kill": 1.0}

        def set_reward_shaping(self, reward_shaping, agent_idx):
            pass

    env = gymnasium.wrappers.ClipReward(Shaped(gymnasium.make("CartPole-v1")), -1, 1)
    assert get_default_reward_shaping(env) == {"kill": 1.0}
    assert get_default_reward_shaping(gymnasium.make("CartPole-v1")) is None
    assert issubclass(EnvCriticalError, Exception)
    with pytest.raises(EnvCriticalError):
        raise EnvCriticalError("the simulator crashed")


def test_make_img_encoder_and_model_device():
    import torch

    from sample_factory.cfg.arguments import default_cfg
    from sample_factory.model.encoder import Encoder, make_img_encoder
    from sample_factory.model.model_utils import model_device

    encoder = make_img_encoder(default_cfg(), gymnasium.spaces.Box(0, 255, (3, 72, 96), np.uint8))
    assert isinstance(encoder, Encoder)
    out = encoder(torch.zeros(2, 3, 72, 96))
    assert out.shape == (2, encoder.get_out_size()) and encoder.get_out_size() > 0
    with pytest.raises(TypeError, match=r"3-D Box observation space \(channels, height, width\), got Box"):
        make_img_encoder(default_cfg(), gymnasium.spaces.Box(-1, 1, (4,)))
    assert model_device(encoder) == torch.device("cpu")
    assert model_device(torch.nn.ReLU()) == torch.device("cpu")


def test_misc_constants_and_statuses():
    from sample_factory.algo.utils.misc import EPISODIC, EPS, ExperimentStatus

    assert (ExperimentStatus.SUCCESS, ExperimentStatus.FAILURE, ExperimentStatus.INTERRUPTED) == (0, 1, 2)
    assert 0 < EPS < 1e-6 and abs(0.1 + 0.2 - 0.3) < EPS
    assert isinstance(EPISODIC, str)


def test_rl_utils():
    import torch

    from sample_factory.algo.utils.rl_utils import make_dones, samples_per_trajectory

    assert make_dones(False, True) is True and make_dones(False, False) is False
    assert make_dones(np.array([True, False, False]), np.array([False, True, False])).tolist() == [True, True, False]
    both = make_dones(torch.tensor([True, False]), torch.tensor([False, False]))
    assert isinstance(both, torch.Tensor) and both.tolist() == [True, False]
    assert samples_per_trajectory({"rewards": torch.zeros(3, 16), "obs": torch.zeros(3, 17, 4)}) == 48
    assert samples_per_trajectory({"rewards": np.zeros(32)}) == 32
    with pytest.raises(KeyError, match=r"'rewards'.*\['obs'\]"):
        samples_per_trajectory({"obs": np.zeros(3)})


def test_discretized_as_the_doom_example_uses_it():
    from sample_factory.algo.utils.spaces.discretized import Discretized

    space = gymnasium.spaces.Tuple((gymnasium.spaces.Discrete(3), Discretized(11, min_action=-10.0, max_action=10.0)))
    turn = space.spaces[1]
    assert isinstance(turn, gymnasium.spaces.Discrete) and turn.n == 11
    assert [turn.to_continuous(a) for a in (0, 3, 10)] == [-10.0, -4.0, 10.0]
    assert pickle.loads(pickle.dumps(space)) == space


def test_convert_space_turns_gym_like_spaces_into_gymnasium_ones():
    from sample_factory.algo.utils.gymnasium_utils import convert_space

    # Stand-ins for OpenAI gym's classes: conversion goes by class name and attributes, so gym need not be installed.
    Box = type("Box", (), {})
    Discrete = type("Discrete", (), {})
    Tuple = type("Tuple", (), {})
    Dict = type("Dict", (), {})
    box = Box()
    box.low, box.high, box.shape, box.dtype = np.full(2, -1.0), np.full(2, 1.0), (2,), np.float32
    discrete = Discrete()
    discrete.n = 4
    pair = Tuple()
    pair.spaces = (box, discrete)
    mapping = Dict()
    mapping.spaces = {"obs": box, "pair": pair}

    converted = convert_space(mapping)
    assert converted == gymnasium.spaces.Dict(
        {
            "obs": gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32),
            "pair": gymnasium.spaces.Tuple(
                (gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float32), gymnasium.spaces.Discrete(4))
            ),
        }
    )
    native = gymnasium.spaces.Discrete(3)
    assert convert_space(native) is native
    with pytest.raises(TypeError, match=r"cannot convert builtins.str 'Box'; accepted: Box, Discrete"):
        convert_space("Box")


def test_typing_aliases():
    from sample_factory.utils.typing import Env, PolicyID

    assert isinstance(gymnasium.make("CartPole-v1"), Env)
    assert PolicyID is int


def test_utils_helpers(tmp_path, caplog):
    import argparse

    from sample_factory.cfg.arguments import default_cfg
    from sample_factory.utils.utils import (
        debug_log_every_n,
        ensure_dir_exists,
        experiment_dir,
        project_tmp_dir,
        safe_ensure_dir_exists,
        static_vars,
        str2bool,
    )

    assert str2bool("True") is True and str2bool("no") is False
    with pytest.raises((argparse.ArgumentTypeError, ValueError)):
        str2bool("maybe")

    @static_vars(calls=0, seen=None)
    def count():
        count.calls += 1
        return count.calls

    assert count.seen is None and (count(), count()) == (1, 2)

    nested = tmp_path / "a" / "b"
    assert ensure_dir_exists(nested) == str(nested) and nested.is_dir()
    assert ensure_dir_exists(str(nested)) == str(nested)  # exists already: fine
    assert safe_ensure_dir_exists(tmp_path / "c") == str(tmp_path / "c") and (tmp_path / "c").is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError):
        ensure_dir_exists(tmp_path / "file")

    tmp = project_tmp_dir()
    assert Path(tmp).is_dir() and project_tmp_dir() == tmp

    cfg = default_cfg(env="CartPole-v1", experiment="my_exp")
    cfg.train_dir = str(tmp_path / "runs")
    assert Path(experiment_dir(cfg)) == tmp_path / "runs" / "my_exp"
    assert not (tmp_path / "runs").exists(), "the runner prepares the directory, not experiment_dir"

    message = f"resolution %s ({tmp_path.name})"  # unique, so other tests' calls do not count
    with caplog.at_level(logging.DEBUG, logger="sf_runtime"):
        for i in range(7):
            debug_log_every_n(3, message, i)
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("resolution")]
    assert logged == [message % i for i in (0, 3, 6)]
    with pytest.raises(ValueError, match=r"positive integer, got 0"):
        debug_log_every_n(0, "x")


def test_is_udp_port_available():
    from sample_factory.utils.network import is_udp_port_available

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("", 0))
        port = taken.getsockname()[1]
        assert is_udp_port_available(port) is False
    assert is_udp_port_available(port) is True
    with pytest.raises(ValueError, match=r"0 to 65535, got 70000"):
        is_udp_port_available(70000)


def test_algo_version_names_experiments():
    from sample_factory.utils.algo_version import ALGO_VERSION

    assert isinstance(ALGO_VERSION, int) and ALGO_VERSION >= 1
    assert re.fullmatch(r"v\d{3}_sweep", f"v{ALGO_VERSION:03d}_sweep")


def test_make_runner_returns_the_cfg_and_a_runner_that_takes_algo_observers(tmp_path):
    from sample_factory.algo.runners.runner import AlgoObserver, Runner
    from sample_factory.algo.utils.misc import ExperimentStatus
    from sample_factory.cfg.arguments import default_cfg
    from sample_factory.train import make_runner

    class StopAtStart(AlgoObserver):
        seen = []

        def on_start(self, runner: Runner) -> None:
            StopAtStart.seen.append(runner)
            runner.lifecycle.request_stop("test")

    cfg = default_cfg(env="CartPole-v1", experiment="runner")
    cfg.train_dir, cfg.serial_mode, cfg.device, cfg.num_workers = str(tmp_path), True, "cpu", 1
    same_cfg, runner = make_runner(cfg)
    assert same_cfg is cfg and isinstance(runner, Runner)
    runner.register_observer(StopAtStart())
    status = runner.init()
    assert status == ExperimentStatus.SUCCESS
    assert runner.run() == ExperimentStatus.SUCCESS and StopAtStart.seen == [runner]
