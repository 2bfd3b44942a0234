"""``sample_factory.model.encoder``: the ``Encoder`` base class and ``make_img_encoder`` from :mod:`sf_runtime`."""

from sf_runtime import Encoder, make_img_encoder

__all__ = ["Encoder", "make_img_encoder"]
