"""``sample_factory.algo.utils.rl_utils``: ``make_dones`` and ``samples_per_trajectory`` from :mod:`sf_runtime`."""

from sf_runtime import make_dones, samples_per_trajectory

__all__ = ["make_dones", "samples_per_trajectory"]
