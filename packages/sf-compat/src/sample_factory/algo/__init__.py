"""Algorithm utilities: ``sample_factory.algo.utils``."""
