"""``sample_factory.envs.env_utils``: ``register_env`` (sf_registry), the env interfaces and helpers (sf_runtime)."""

from sf_registry import register_env
from sf_runtime import EnvCriticalError, RewardShapingInterface, TrainingInfoInterface, get_default_reward_shaping

__all__ = [
    "EnvCriticalError",
    "RewardShapingInterface",
    "TrainingInfoInterface",
    "get_default_reward_shaping",
    "register_env",
]
