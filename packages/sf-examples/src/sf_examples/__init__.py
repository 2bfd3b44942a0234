"""Example integrations of sf, each a runnable module with train and enjoy scripts (``python -m ...``).

- :mod:`sf_examples.custom_env`: the spec's custom-environment template, on sf's own API.
- :mod:`sf_examples.gym_classic`: CartPole-v1, Acrobot-v1 and Pendulum-v1 with tuned defaults.
- :mod:`sf_examples.custom_model`: a custom env with a custom encoder registered through the model factory.
- :mod:`sf_examples.multi_agent`: a cooperative multi-agent env (shared team reward).
- :mod:`sf_examples.self_play`: two two-agent games (coordination, a duel) for two policies trained together.
- :mod:`sf_examples.atari`: Atari through ale-py, standard preprocessing, Atari PPO defaults (``[atari]`` extra).
- :mod:`sf_examples.mujoco`: MuJoCo v5 locomotion with continuous-control defaults (``[mujoco]`` extra).
- :mod:`sf_examples.entry_point`: an env declared through the ``sf.envs`` entry point, trained by ``sf-cli`` alone.

The examples import only the public names of the layers (what ``sf_config``, ``sf_registry``, ``sf_runtime`` and
``sf_cli`` list in ``__all__``); import-linter checks it.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
