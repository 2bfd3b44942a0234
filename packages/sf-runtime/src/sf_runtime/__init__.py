"""The sf engine: models, APPO learner, samplers, runners, checkpoints, summaries, enjoy.

Public names:

- :func:`run_rl` trains as configured (``serial_mode`` picks the one-process runner) and returns a status code
  (:class:`ExperimentStatus`); :class:`RunObserver` subclasses passed to it get callbacks during the run
  (:class:`StopAtReward` is one that stops the run once a policy's average reward reaches a target).
  :func:`make_runner` makes a :class:`Runner` instead, for Sample Factory 2-style scripts that register
  :class:`AlgoObserver` objects (and episodic-statistics handlers, which get :data:`EPISODIC` messages) before
  ``runner.init()`` and ``runner.run()``.
- :func:`enjoy` evaluates a trained policy and returns an :class:`EnjoyResult` (an ``int`` status that also unpacks
  as ``status, avg_reward``).
- The model factory: :func:`global_model_factory` to register custom encoders, cores, decoders or whole
  actor-critics, with the base classes :class:`Encoder`, :class:`ModelCore`, :class:`Decoder` and
  :class:`ActorCritic`; :func:`make_img_encoder` (the default image encoder, to build on), and the model utilities
  :func:`nonlinearity`, :func:`calc_num_elements` and :func:`model_device`.
- Env interfaces: :class:`TrainingInfoInterface` and :class:`RewardShapingInterface` (the training info dict holds
  :data:`APPROX_TOTAL_TRAINING_STEPS`; :func:`get_default_reward_shaping` finds an env's scheme),
  :class:`EnvCriticalError` for envs that give up, and :func:`create_env` to build an env as the runtime sees it.
- Env sources that are vectors already (EnvPool): :func:`register_env_vector` registers a factory of an
  :class:`EnvVector` (the interface batched sampling steps: all envs of a worker split in one call) for an env name.
- Spaces: :class:`Discretized` (a ``Discrete`` space standing for values of a continuous range) and
  :func:`convert_space` (gym spaces to gymnasium ones).
- Env wrappers for factories: Atari preprocessing (:func:`atari_preprocessing` and its parts :class:`NoopResetEnv`,
  :class:`MaxAndSkipEnv`, :class:`EpisodicLifeEnv`, :class:`FireResetEnv`, :class:`ResizeWrapper`,
  :class:`ClipRewardEnv`, :class:`FrameStack`, :class:`RecordGameScore`) and :class:`PixelFormatChwWrapper`,
  :class:`NumpyObsWrapper`, :class:`RewardScalingWrapper`, :class:`TimeLimitWrapper`, :class:`RecordingWrapper`.
- Sweeps (Sample Factory's launcher): :class:`ParamGrid`, :class:`ParamList` and :func:`seeds` make parameter
  combinations, :class:`Experiment` and :class:`RunDescription` describe the runs, :func:`run_sweep` runs them
  (``processes`` or ``ray`` backend) and returns a :class:`SweepResult`; :func:`launcher_main` is the command line of
  ``python -m sample_factory.launcher.run``.
- Script helpers: :data:`log`, :func:`is_module_available`, the type aliases :data:`ObsSpace`, :data:`ActionSpace`,
  :data:`Env` and :data:`PolicyID`, :func:`ensure_dir_exists`,
  :func:`safe_ensure_dir_exists`, :func:`project_tmp_dir`, :func:`debug_log_every_n`, :func:`static_vars`,
  :func:`is_udp_port_available`, :data:`ALGO_VERSION`, and the RL helpers :func:`make_dones`,
  :func:`samples_per_trajectory` and :data:`EPS`.

Example:
    >>> from sf_config import make_cfg
    >>> from sf_runtime import run_rl
    >>> cfg = make_cfg(env="CartPole-v1", experiment="cartpole", serial_mode=True, use_rnn=False)  # doctest: +SKIP
    >>> run_rl(cfg)  # doctest: +SKIP
    0
"""

from sf_runtime._script_utils import (
    ALGO_VERSION,
    ActionSpace,
    Env,
    ObsSpace,
    PolicyID,
    debug_log_every_n,
    ensure_dir_exists,
    is_module_available,
    is_udp_port_available,
    log,
    project_tmp_dir,
    safe_ensure_dir_exists,
    static_vars,
)
from sf_runtime.algo import EPS, make_dones, samples_per_trajectory
from sf_runtime.envs import (
    APPROX_TOTAL_TRAINING_STEPS,
    ClipRewardEnv,
    Discretized,
    EnvCriticalError,
    EnvVector,
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
    RewardShapingInterface,
    TimeLimitWrapper,
    TrainingInfoInterface,
    atari_preprocessing,
    convert_space,
    create_env,
    get_default_reward_shaping,
    provide_gymnasium_0x_names,
    register_env_vector,
)
from sf_runtime.evaluation import EnjoyResult, enjoy
from sf_runtime.launcher import (
    Experiment,
    ParamGrid,
    ParamList,
    RunDescription,
    SweepError,
    SweepResult,
    launcher_main,
    run_sweep,
    seeds,
)
from sf_runtime.model import (
    ActorCritic,
    Decoder,
    Encoder,
    ModelCore,
    ModelFactory,
    calc_num_elements,
    create_actor_critic,
    global_model_factory,
    make_img_encoder,
    model_device,
    nonlinearity,
)
from sf_runtime.observers import StopAtReward
from sf_runtime.runners import (
    EPISODIC,
    AlgoObserver,
    ExperimentLifecycle,
    ExperimentStatus,
    Runner,
    RunObserver,
    make_runner,
    run_rl,
)

__version__ = "0.1.0"

__all__ = [
    "ALGO_VERSION",
    "APPROX_TOTAL_TRAINING_STEPS",
    "EPISODIC",
    "EPS",
    "ActionSpace",
    "ActorCritic",
    "AlgoObserver",
    "ClipRewardEnv",
    "Decoder",
    "Discretized",
    "Encoder",
    "EnjoyResult",
    "Env",
    "EnvCriticalError",
    "EnvVector",
    "EpisodicLifeEnv",
    "Experiment",
    "ExperimentLifecycle",
    "ExperimentStatus",
    "FireResetEnv",
    "FrameStack",
    "MaxAndSkipEnv",
    "ModelCore",
    "ModelFactory",
    "NoopResetEnv",
    "NumpyObsWrapper",
    "ObsSpace",
    "ParamGrid",
    "ParamList",
    "PixelFormatChwWrapper",
    "PolicyID",
    "RecordGameScore",
    "RecordingWrapper",
    "ResizeWrapper",
    "RewardScalingWrapper",
    "RewardShapingInterface",
    "RunDescription",
    "RunObserver",
    "Runner",
    "StopAtReward",
    "SweepError",
    "SweepResult",
    "TimeLimitWrapper",
    "TrainingInfoInterface",
    "__version__",
    "atari_preprocessing",
    "calc_num_elements",
    "convert_space",
    "create_actor_critic",
    "create_env",
    "debug_log_every_n",
    "enjoy",
    "ensure_dir_exists",
    "get_default_reward_shaping",
    "global_model_factory",
    "is_module_available",
    "is_udp_port_available",
    "launcher_main",
    "log",
    "make_dones",
    "make_img_encoder",
    "make_runner",
    "model_device",
    "nonlinearity",
    "project_tmp_dir",
    "provide_gymnasium_0x_names",
    "register_env_vector",
    "run_rl",
    "run_sweep",
    "safe_ensure_dir_exists",
    "samples_per_trajectory",
    "seeds",
    "static_vars",
]
