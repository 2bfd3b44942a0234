"""``sample_factory.algo.runners.runner``: ``Runner`` and ``AlgoObserver`` from :mod:`sf_runtime`."""

from sf_runtime import AlgoObserver, Runner

__all__ = ["AlgoObserver", "Runner"]
