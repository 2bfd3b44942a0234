"""Envs in the runtime: multi-agent form, dict observations, episode statistics, vectors, env-info probe, wrappers.

Private to sf_runtime; the names below are what the rest of the runtime uses.
"""

from sf_runtime.envs.create import create_env
from sf_runtime.envs.dict_obs import OBS_KEY
from sf_runtime.envs.env_info import EnvInfo, EnvProbeError, extract_env_info, probe_env_info
from sf_runtime.envs.gymnasium_legacy import provide_gymnasium_0x_names
from sf_runtime.envs.interfaces import (
    APPROX_TOTAL_TRAINING_STEPS,
    EnvCriticalError,
    RewardShapingInterface,
    TrainingInfoInterface,
    find_reward_shaping_interface,
    find_training_info_interface,
    get_default_reward_shaping,
)
from sf_runtime.envs.multi_agent import MultiAgentEnv
from sf_runtime.envs.seeding import env_seed
from sf_runtime.envs.spaces import Discretized, convert_space
from sf_runtime.envs.validation import EnvError
from sf_runtime.envs.vector import EnvVector, LoopEnvVector, NativeEnvVector, make_env_vector
from sf_runtime.envs.vector_factories import register_env_vector
from sf_runtime.envs.wrappers import (
    ClipRewardEnv,
    EpisodicLifeEnv,
    FireResetEnv,
    FrameStack,
    MaxAndSkipEnv,
    NoopResetEnv,
    NumpyObsWrapper,
    PixelFormatChwWrapper,
    RecordGameScore,
    RecordingWrapper,
    ResizeWrapper,
    RewardScalingWrapper,
    TimeLimitWrapper,
    atari_preprocessing,
)

__all__ = [
    "APPROX_TOTAL_TRAINING_STEPS",
    "OBS_KEY",
    "ClipRewardEnv",
    "Discretized",
    "EnvCriticalError",
    "EnvError",
    "EnvInfo",
    "EnvProbeError",
    "EnvVector",
    "EpisodicLifeEnv",
    "FireResetEnv",
    "FrameStack",
    "LoopEnvVector",
    "MaxAndSkipEnv",
    "MultiAgentEnv",
    "NativeEnvVector",
    "NoopResetEnv",
    "NumpyObsWrapper",
    "PixelFormatChwWrapper",
    "RecordGameScore",
    "RecordingWrapper",
    "ResizeWrapper",
    "RewardScalingWrapper",
    "RewardShapingInterface",
    "TimeLimitWrapper",
    "TrainingInfoInterface",
    "atari_preprocessing",
    "convert_space",
    "create_env",
    "env_seed",
    "extract_env_info",
    "find_reward_shaping_interface",
    "find_training_info_interface",
    "get_default_reward_shaping",
    "make_env_vector",
    "probe_env_info",
    "provide_gymnasium_0x_names",
    "register_env_vector",
]
