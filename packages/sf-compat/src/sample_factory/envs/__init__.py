"""Environments: ``sample_factory.envs.env_utils``, ``env_wrappers`` and ``create_env``."""
