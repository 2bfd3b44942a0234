"""``sample_factory.algo.utils.torch_utils``: ``calc_num_elements`` from :mod:`sf_runtime`."""

from sf_runtime import calc_num_elements

__all__ = ["calc_num_elements"]
