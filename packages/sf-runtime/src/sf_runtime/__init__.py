"""The sf engine: models, APPO learner, samplers, runners, checkpoints, summaries, enjoy.

Public names:

- :func:`run_rl` trains as configured (``serial_mode`` picks the one-process runner) and returns a status code;
  :class:`RunObserver` subclasses passed to it get callbacks during the run; :class:`StopAtReward` is one that
  stops the run once a policy's average reward reaches a target.
- :func:`enjoy` evaluates a trained policy and returns an :class:`EnjoyResult` (an ``int`` status that also unpacks
  as ``status, avg_reward``).
- The model factory: :func:`global_model_factory` to register custom encoders, cores, decoders or whole
  actor-critics, with the base classes :class:`Encoder`, :class:`ModelCore`, :class:`Decoder` and
  :class:`ActorCritic`.
- Env interfaces: :class:`TrainingInfoInterface` and :class:`RewardShapingInterface` (the training info dict holds
  :data:`APPROX_TOTAL_TRAINING_STEPS`), and :func:`create_env` to build an env as the runtime sees it.
- Script helpers: :data:`log`, :func:`is_module_available`, the type aliases :data:`ObsSpace` and
  :data:`ActionSpace`, and the model utilities :func:`nonlinearity` and :func:`calc_num_elements`.

Example:
    >>> from sf_config import make_cfg
    >>> from sf_runtime import run_rl
    >>> cfg = make_cfg(env="CartPole-v1", experiment="cartpole", serial_mode=True, use_rnn=False)  # doctest: +SKIP
    >>> run_rl(cfg)  # doctest: +SKIP
    0
"""

from sf_runtime._script_utils import ActionSpace, ObsSpace, is_module_available, log
from sf_runtime.envs import APPROX_TOTAL_TRAINING_STEPS, RewardShapingInterface, TrainingInfoInterface, create_env
from sf_runtime.evaluation import EnjoyResult, enjoy
from sf_runtime.model import (
    ActorCritic,
    Decoder,
    Encoder,
    ModelCore,
    ModelFactory,
    calc_num_elements,
    create_actor_critic,
    global_model_factory,
    nonlinearity,
)
from sf_runtime.observers import StopAtReward
from sf_runtime.runners import run_rl
from sf_runtime.runners.lifecycle import ExperimentLifecycle, RunObserver

__version__ = "0.1.0"

__all__ = [
    "APPROX_TOTAL_TRAINING_STEPS",
    "ActionSpace",
    "ActorCritic",
    "Decoder",
    "Encoder",
    "EnjoyResult",
    "ExperimentLifecycle",
    "ModelCore",
    "ModelFactory",
    "ObsSpace",
    "RewardShapingInterface",
    "RunObserver",
    "StopAtReward",
    "TrainingInfoInterface",
    "__version__",
    "calc_num_elements",
    "create_actor_critic",
    "create_env",
    "enjoy",
    "global_model_factory",
    "is_module_available",
    "log",
    "nonlinearity",
    "run_rl",
]
