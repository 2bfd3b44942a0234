"""``sample_factory.algo.utils.gymnasium_utils``: ``convert_space`` from :mod:`sf_runtime`."""

from sf_runtime import convert_space

__all__ = ["convert_space"]
