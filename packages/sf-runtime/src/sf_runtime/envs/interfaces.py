"""Optional interfaces an environment may implement to talk to the trainer.

The runtime looks for them on the environment and on every wrapper between the environment returned by the factory
and its ``unwrapped`` core, so a wrapper that adds e.g. reward shaping is found as well as the env itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

# The key the samplers put into the training-info dict: the approximate number of env steps trained on so far, summed
# over all workers (frames are counted as agent steps times env_frameskip).
APPROX_TOTAL_TRAINING_STEPS = "approx_total_training_steps"


class TrainingInfoInterface:
    """An environment that wants to know how far training has progressed (e.g. for a curriculum).

    The samplers call :meth:`set_training_info` from time to time with a dict holding at least
    ``"approx_total_training_steps"``: the approximate number of environment steps collected so far by the whole
    experiment. The default implementation stores it in ``self.training_info`` (call ``__init__`` to start from
    ``{}``), so an env only needs to inherit the interface and read that attribute.
    """

    def __init__(self) -> None:
        self.training_info: dict[str, Any] = {}

    def set_training_info(self, training_info: dict[str, Any]) -> None:
        """Receives the latest training information; by default it is kept in ``self.training_info``.

        Override it to react at once (call the base method, or keep the dict yourself).

        Args:
            training_info: at least ``{"approx_total_training_steps": int}``.
        """
        self.training_info = training_info


class RewardShapingInterface(ABC):
    """An environment whose reward is a weighted sum of terms that the trainer may adjust (e.g. by PBT)."""

    @abstractmethod
    def get_default_reward_shaping(self) -> dict[str, Any] | None:
        """Returns the reward-shaping scheme the env starts with (term name to coefficient), or None."""

    @abstractmethod
    def set_reward_shaping(self, reward_shaping: dict[str, Any], agent_idx: int | slice) -> None:
        """Sets the reward-shaping scheme of one agent (or a slice of agents) of this env.

        Args:
            reward_shaping: term name to coefficient, as returned by :meth:`get_default_reward_shaping`.
            agent_idx: which agents of a multi-agent env the scheme applies to.
        """


def _wrapper_chain(env: Any):
    """Yields env, then each object it wraps (through ``.env``), down to the innermost one."""
    seen = set()
    while env is not None and id(env) not in seen:
        seen.add(id(env))
        yield env
        env = getattr(env, "env", None)


def find_training_info_interface(env: Any) -> TrainingInfoInterface | None:
    """Returns the first object in env's wrapper chain that implements :class:`TrainingInfoInterface`, or None."""
    for candidate in _wrapper_chain(env):
        if isinstance(candidate, TrainingInfoInterface):
            return candidate
    return None


def find_reward_shaping_interface(env: Any) -> RewardShapingInterface | None:
    """Returns the first object in env's wrapper chain that implements :class:`RewardShapingInterface`, or None."""
    for candidate in _wrapper_chain(env):
        if isinstance(candidate, RewardShapingInterface):
            return candidate
    return None


def get_default_reward_shaping(env: Any) -> dict[str, Any] | None:
    """The default reward-shaping scheme of an env, from the first :class:`RewardShapingInterface` in its wrappers.

    Args:
        env: An env, possibly wrapped (the wrapper chain is followed through ``.env``).

    Returns:
        What that object's :meth:`RewardShapingInterface.get_default_reward_shaping` returns, or None when nothing in
        the chain implements the interface.
    """
    shaping = find_reward_shaping_interface(env)
    return None if shaping is None else shaping.get_default_reward_shaping()


class EnvCriticalError(Exception):
    """Raised by an env that cannot go on (its simulator crashed or lost its connection, say).

    sf treats it like any exception from an env's ``reset`` or ``step``: with ``max_env_failures=0`` (the default)
    the run saves a checkpoint and stops with status 1; with ``max_env_failures=N`` the envs of the failing worker
    split are recreated and training goes on, until more than N failures happened. Raising this class rather than a
    generic one tells readers of the log that the env itself gave up.
    """
