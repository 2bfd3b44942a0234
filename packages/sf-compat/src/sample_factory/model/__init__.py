"""Models: ``sample_factory.model.encoder`` and ``sample_factory.model.model_utils``."""
