"""``sample_factory.model.encoder``: the ``Encoder`` base class from :mod:`sf_runtime`."""

from sf_runtime import Encoder

__all__ = ["Encoder"]
