"""Environments: ``sample_factory.envs.env_utils`` and ``sample_factory.envs.env_wrappers``."""
