"""``sample_factory.model.model_utils``: ``nonlinearity(cfg)`` from :mod:`sf_runtime`."""

from sf_runtime import nonlinearity

__all__ = ["nonlinearity"]
