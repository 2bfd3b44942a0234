"""``sample_factory.launcher.launcher_utils``: ``seeds(n)``, n seeds for a ParamGrid (the same ones every time)."""

from sf_runtime import seeds

__all__ = ["seeds"]
