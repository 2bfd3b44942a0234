"""Decoders: core outputs to the features the policy and value heads read."""

from __future__ import annotations

from functools import partial

import torch

from sf_runtime.model.model_utils import ModelModule, create_mlp, mlp_out_size, nonlinearity


class Decoder(ModelModule):
    """Base class of decoders: ``forward(core_output [B, F]) -> Tensor[B, get_out_size()]``.

    Args:
        cfg: The configuration, kept as ``self.cfg``.
    """


class MlpDecoder(Decoder):
    """``decoder_mlp_layers`` over the core output (an identity when the list is empty)."""

    def __init__(self, cfg, input_size: int):
        super().__init__(cfg)
        layers = list(cfg.decoder_mlp_layers or [])
        self.mlp = create_mlp(layers, input_size, partial(nonlinearity, cfg))
        self.out_size = mlp_out_size(layers, input_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x)

    def get_out_size(self) -> int:
        return self.out_size


def make_default_decoder(cfg, input_size: int) -> Decoder:
    """The default decoder factory: :class:`MlpDecoder`."""
    return MlpDecoder(cfg, input_size)
