"""``sample_factory.envs.env_utils``: ``register_env`` (sf_registry) and the env interfaces (sf_runtime)."""

from sf_registry import register_env
from sf_runtime import RewardShapingInterface, TrainingInfoInterface

__all__ = ["RewardShapingInterface", "TrainingInfoInterface", "register_env"]
