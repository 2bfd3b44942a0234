"""``sample_factory.utils.utils``: ``log`` (the framework logger) and ``is_module_available``, from sf_runtime."""

from sf_runtime import is_module_available, log

__all__ = ["is_module_available", "log"]
