"""Sample Factory 2 import paths, re-exported from the public names of sf's layers (no logic of its own).

module                                    names                                                 from
========================================  ====================================================  ==============
``sample_factory.cfg.arguments``          ``parse_sf_args``, ``parse_full_cfg``                 sf_config
``sample_factory.envs.env_utils``         ``register_env``                                      sf_registry
                                          ``TrainingInfoInterface``, ``RewardShapingInterface``  sf_runtime
``sample_factory.envs.env_wrappers``      Atari-style wrappers (``NoopResetEnv``, ...)          sf_registry
``sample_factory.train``                  ``run_rl``                                            sf_runtime
``sample_factory.enjoy``                  ``enjoy``                                             sf_runtime
``sample_factory.algo.utils.context``     ``global_model_factory``                              sf_runtime
``sample_factory.algo.utils.torch_utils``  ``calc_num_elements``                                sf_runtime
``sample_factory.model.encoder``          ``Encoder``                                           sf_runtime
``sample_factory.model.model_utils``      ``nonlinearity``                                      sf_runtime
``sample_factory.utils.typing``           ``Config``                                            sf_config
                                          ``ObsSpace``, ``ActionSpace``                         sf_runtime
``sample_factory.utils.utils``            ``is_module_available``, ``log``                      sf_runtime
``sample_factory.launcher.*``             ``.run_description``: ``RunDescription``,             sf_runtime
                                          ``Experiment``, ``ParamGrid``, ``ParamList``;
                                          ``.launcher_utils``: ``seeds``; ``.run``:
                                          ``launcher_main`` (``python -m``)
========================================  ====================================================  ==============
=======
================================================  ========================================================  ===========
module                                            names                                                     from
================================================  ========================================================  ===========
``sample_factory.cfg.arguments``                  ``parse_sf_args``, ``parse_full_cfg``, ``default_cfg``    sf_config
``sample_factory.envs.env_utils``                 ``register_env``                                          sf_registry
                                                  ``TrainingInfoInterface``, ``RewardShapingInterface``,    sf_runtime
                                                  ``EnvCriticalError``, ``get_default_reward_shaping``
``sample_factory.envs.env_wrappers``              ``NoopResetEnv``, ``MaxAndSkipEnv``,                      sf_runtime
                                                  ``EpisodicLifeEnv``, ``FireResetEnv``,
                                                  ``ClipRewardEnv``, ``ResizeWrapper``, ``FrameStack``,
                                                  ``atari_preprocessing``, ``PixelFormatChwWrapper``,
                                                  ``NumpyObsWrapper``, ``RecordingWrapper``,
                                                  ``RewardScalingWrapper``, ``TimeLimitWrapper``
``sample_factory.envs.create_env``                ``create_env``                                            sf_runtime
``sample_factory.train``                          ``run_rl``, ``make_runner``                               sf_runtime
``sample_factory.enjoy``                          ``enjoy``                                                 sf_runtime
``sample_factory.algo.runners.runner``            ``Runner``, ``AlgoObserver``                              sf_runtime
``sample_factory.algo.utils.context``             ``global_model_factory``                                  sf_runtime
``sample_factory.algo.utils.torch_utils``         ``calc_num_elements``                                     sf_runtime
``sample_factory.algo.utils.misc``                ``EPS``, ``EPISODIC``, ``ExperimentStatus``               sf_runtime
``sample_factory.algo.utils.rl_utils``            ``make_dones``, ``samples_per_trajectory``                sf_runtime
``sample_factory.algo.utils.spaces.discretized``  ``Discretized``                                           sf_runtime
``sample_factory.algo.utils.gymnasium_utils``     ``convert_space``                                         sf_runtime
``sample_factory.model.encoder``                  ``Encoder``, ``make_img_encoder``                         sf_runtime
``sample_factory.model.model_utils``              ``nonlinearity``, ``model_device``                        sf_runtime
``sample_factory.utils.typing``                   ``Config``                                                sf_config
                                                  ``ObsSpace``, ``ActionSpace``, ``Env``, ``PolicyID``      sf_runtime
``sample_factory.utils.utils``                    ``str2bool``, ``experiment_dir``                          sf_config
                                                  ``log``, ``is_module_available``,                         sf_runtime
                                                  ``ensure_dir_exists``, ``safe_ensure_dir_exists``,
                                                  ``project_tmp_dir``, ``debug_log_every_n``,
                                                  ``static_vars``
``sample_factory.utils.network``                  ``is_udp_port_available``                                 sf_runtime
``sample_factory.utils.algo_version``             ``ALGO_VERSION``                                          sf_runtime
``sample_factory.launcher.run_description``       ``RunDescription``, ``Experiment``, ``ParamGrid``,        sf_runtime
                                                  ``ParamList``
``sample_factory.launcher.launcher_utils``        ``seeds``                                                 sf_runtime
``sample_factory.launcher.run``                   ``launcher_main`` (``python -m``)                         sf_runtime
================================================  ========================================================  ===========

New code should import from the layers themselves (``from sf_runtime import run_rl``); this package exists so that
scripts written for Sample Factory 2 run unchanged. Sample Factory 2 ran on gymnasium 0.x: importing this package
also provides the gymnasium 0.x names its scripts use (``sf_runtime.provide_gymnasium_0x_names``).
"""

from sf_runtime import provide_gymnasium_0x_names

provide_gymnasium_0x_names()

__version__ = "0.1.0"

__all__ = ["__version__"]
