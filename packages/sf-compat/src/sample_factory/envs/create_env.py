"""``sample_factory.envs.create_env``: ``create_env(full_env_name, cfg, env_config, render_mode)`` from sf_runtime."""

from sf_runtime import create_env

__all__ = ["create_env"]
