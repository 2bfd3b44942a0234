"""``sample_factory.algo.utils.spaces.discretized``: the ``Discretized`` action space from :mod:`sf_runtime`."""

from sf_runtime import Discretized

__all__ = ["Discretized"]
