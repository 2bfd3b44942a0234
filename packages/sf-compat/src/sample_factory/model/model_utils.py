"""``sample_factory.model.model_utils``: ``nonlinearity(cfg)`` and ``model_device(model)`` from :mod:`sf_runtime`."""

from sf_runtime import model_device, nonlinearity

__all__ = ["model_device", "nonlinearity"]
