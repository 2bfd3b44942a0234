"""``sample_factory.algo.utils.context``: ``global_model_factory()`` from :mod:`sf_runtime`."""

from sf_runtime import global_model_factory

__all__ = ["global_model_factory"]
