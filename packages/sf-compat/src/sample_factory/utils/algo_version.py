"""``sample_factory.utils.algo_version``: ``ALGO_VERSION`` from :mod:`sf_runtime`."""

from sf_runtime import ALGO_VERSION

__all__ = ["ALGO_VERSION"]
