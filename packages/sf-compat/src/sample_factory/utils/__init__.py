"""``sample_factory.utils``: ``typing``, ``utils``, ``network`` and ``algo_version``."""
