"""``sample_factory.algo.runners``: ``runner``."""
