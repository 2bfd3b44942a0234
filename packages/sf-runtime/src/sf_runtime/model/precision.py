"""``encoder_precision``: the encoder of an actor-critic computes in bfloat16 where that pays.

On pixel envs the convolutional encoder is most of the work of both the learner (forward and backward) and the
inference workers. Under ``torch.autocast`` in bfloat16 its convolutions and linear layers run about twice as fast
on a CPU with native bfloat16 (AVX512-BF16 or AMX) and on recent GPUs. Only the encoder
(:meth:`~sf_runtime.model.ActorCritic.forward_head`) runs so: its features are cast back to float32, and the core,
the heads, the losses and every parameter, optimizer state and checkpoint stay float32. A checkpoint trained with one
setting loads with any other.
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from sf_runtime.model.actor_critic import ActorCritic

PRECISION_CHOICES = ("float32", "bfloat16", "auto")


@functools.cache
def computes_bfloat16_natively(device_type: str) -> bool:
    """Whether devices of this type (``"cpu"`` or ``"cuda"``) here have bfloat16 arithmetic in hardware."""
    if device_type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    if device_type == "cpu":
        return torch.backends.mkldnn.is_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def resolve_encoder_precision(setting: str, device_type: str) -> str:
    """``"float32"`` or ``"bfloat16"``: what ``encoder_precision=setting`` means on devices of ``device_type``.

    ``"auto"`` is bfloat16 where the device computes it natively (:func:`computes_bfloat16_natively`), float32
    elsewhere (emulated bfloat16 is slower than float32).
    """
    if setting not in PRECISION_CHOICES:
        raise ValueError(f"encoder_precision={setting!r}: expected one of {PRECISION_CHOICES}")
    if setting == "auto":
        return "bfloat16" if computes_bfloat16_natively(device_type) else "float32"
    return setting


def apply_encoder_precision(actor_critic: ActorCritic, setting: str) -> ActorCritic:
    """Make ``actor_critic`` encode in the precision ``setting`` names (in place; returns it).

    The device is read from the observations at each call, so the model may be moved after this.
    """
    resolve_encoder_precision(setting, "cpu")  # refuse a bad setting now, not at the first forward pass
    if setting == "float32":
        return actor_critic
    forward_head = actor_critic.forward_head

    def forward_head_in_precision(normalized_obs: dict[str, Any]) -> torch.Tensor:
        device_type = next(iter(normalized_obs.values())).device.type
        if resolve_encoder_precision(setting, device_type) == "float32":
            return forward_head(normalized_obs)
        with torch.autocast(device_type, dtype=torch.bfloat16):
            features = forward_head(normalized_obs)
        return features.float()

    actor_critic.forward_head = forward_head_in_precision
    return actor_critic
