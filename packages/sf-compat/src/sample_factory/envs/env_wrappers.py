"""``sample_factory.envs.env_wrappers``: the Atari-style gymnasium wrappers of :mod:`sf_registry`."""

from sf_registry import (
    ClipRewardEnv,
    EpisodicLifeEnv,
    FireResetEnv,
    FrameStack,
    MaxAndSkipEnv,
    NoopResetEnv,
    PixelFormatChwWrapper,
    ResizeWrapper,
    atari_preprocessing,
)

__all__ = [
    "ClipRewardEnv",
    "EpisodicLifeEnv",
    "FireResetEnv",
    "FrameStack",
    "MaxAndSkipEnv",
    "NoopResetEnv",
    "PixelFormatChwWrapper",
    "ResizeWrapper",
    "atari_preprocessing",
]
