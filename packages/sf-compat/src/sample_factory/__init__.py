"""Sample Factory 2 import paths, re-exported from the public names of sf's layers (no logic of its own).

========================================  ====================================================  ==============
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

New code should import from the layers themselves (``from sf_runtime import run_rl``); this package exists so that
scripts written for Sample Factory 2 run unchanged.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
