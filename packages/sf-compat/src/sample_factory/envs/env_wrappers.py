"""``sample_factory.envs.env_wrappers``: the gymnasium wrappers of :mod:`sf_runtime`."""

from sf_runtime import (
    ClipRewardEnv,
    EpisodicLifeEnv,
    FireResetEnv,
    FrameStack,
    MaxAndSkipEnv,
    NoopResetEnv,
    NumpyObsWrapper,
    PixelFormatChwWrapper,
    RecordingWrapper,
    ResizeWrapper,
    RewardScalingWrapper,
    TimeLimitWrapper,
    atari_preprocessing,
)

__all__ = [
    "ClipRewardEnv",
    "EpisodicLifeEnv",
    "FireResetEnv",
    "FrameStack",
    "MaxAndSkipEnv",
    "NoopResetEnv",
    "NumpyObsWrapper",
    "PixelFormatChwWrapper",
    "RecordingWrapper",
    "ResizeWrapper",
    "RewardScalingWrapper",
    "TimeLimitWrapper",
    "atari_preprocessing",
]
