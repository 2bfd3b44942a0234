"""``sample_factory.algo.utils.misc``: ``EPS``, ``EPISODIC`` and ``ExperimentStatus`` from :mod:`sf_runtime`."""

from sf_runtime import EPISODIC, EPS, ExperimentStatus

__all__ = ["EPISODIC", "EPS", "ExperimentStatus"]
