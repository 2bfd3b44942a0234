"""``sample_factory.utils.typing`` and ``sample_factory.utils.utils``."""
