"""The sf engine: models, APPO learner, samplers, runners, checkpoints, summaries, enjoy.

Public names:

- :func:`run_rl` trains as configured (``serial_mode`` picks the one-process runner) and returns a status code;
  :class:`RunObserver` subclasses passed to it get callbacks during the run.
- :func:`enjoy` evaluates a trained policy and returns an :class:`EnjoyResult` (an ``int`` status that also unpacks
  as ``status, avg_reward``).
- The model factory: :func:`global_model_factory` to register custom encoders, cores, decoders or whole
  actor-critics, with the base classes :class:`Encoder`, :class:`ModelCore`, :class:`Decoder` and
  :class:`ActorCritic`.
- Env interfaces: :class:`TrainingInfoInterface` and :class:`RewardShapingInterface`.

Example:
    >>> from sf_config import make_cfg
    >>> from sf_runtime import run_rl
    >>> cfg = make_cfg(env="CartPole-v1", experiment="cartpole", serial_mode=True, use_rnn=False)  # doctest: +SKIP
    >>> run_rl(cfg)  # doctest: +SKIP
    0
"""

from sf_runtime.enjoy import EnjoyResult, enjoy
from sf_runtime.envs import RewardShapingInterface, TrainingInfoInterface
from sf_runtime.model import (
    ActorCritic,
    Decoder,
    Encoder,
    ModelCore,
    ModelFactory,
    create_actor_critic,
    global_model_factory,
)
from sf_runtime.runners import run_rl
from sf_runtime.runners.lifecycle import ExperimentLifecycle, RunObserver

__version__ = "0.1.0"

__all__ = [
    "ActorCritic",
    "Decoder",
    "Encoder",
    "EnjoyResult",
    "ExperimentLifecycle",
    "ModelCore",
    "ModelFactory",
    "RewardShapingInterface",
    "RunObserver",
    "TrainingInfoInterface",
    "__version__",
    "create_actor_critic",
    "enjoy",
    "global_model_factory",
    "run_rl",
]
