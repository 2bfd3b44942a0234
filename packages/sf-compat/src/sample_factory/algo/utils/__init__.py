"""``sample_factory.algo.utils``: ``context``, ``torch_utils``, ``misc``, ``rl_utils``, ``gymnasium_utils``,
``spaces``."""
