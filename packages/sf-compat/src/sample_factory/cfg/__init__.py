"""Configuration: ``sample_factory.cfg.arguments``."""
