"""``sample_factory.algo.utils.spaces``: ``discretized``."""
