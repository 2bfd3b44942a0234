"""Every Sample Factory 2 import path of sf-compat gives the very objects of sf's layers (a facade, no copies)."""

import importlib

import pytest

import sf_config
import sf_registry
import sf_runtime

PATHS = {
    "sample_factory.cfg.arguments": {"parse_sf_args": sf_config, "parse_full_cfg": sf_config},
    "sample_factory.envs.env_utils": {
        "register_env": sf_registry,
        "TrainingInfoInterface": sf_runtime,
        "RewardShapingInterface": sf_runtime,
    },
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
    "sample_factory.train": {"run_rl": sf_runtime},
    "sample_factory.enjoy": {"enjoy": sf_runtime},
    "sample_factory.algo.utils.context": {"global_model_factory": sf_runtime},
    "sample_factory.model.encoder": {"Encoder": sf_runtime},
    "sample_factory.model.model_utils": {"nonlinearity": sf_runtime},
    "sample_factory.algo.utils.torch_utils": {"calc_num_elements": sf_runtime},
    "sample_factory.utils.typing": {"Config": sf_config, "ObsSpace": sf_runtime, "ActionSpace": sf_runtime},
    "sample_factory.utils.utils": {"is_module_available": sf_runtime, "log": sf_runtime},
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_path_re_exports_the_public_names_of_the_layers(path):
    module = importlib.import_module(path)
    assert sorted(module.__all__) == sorted(PATHS[path])
    for name, layer in PATHS[path].items():
        assert name in layer.__all__, f"{layer.__name__} does not export {name} publicly"
        assert getattr(module, name) is getattr(layer, name)


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
