"""Algorithm utilities and runners: ``sample_factory.algo.utils`` and ``sample_factory.algo.runners``."""
