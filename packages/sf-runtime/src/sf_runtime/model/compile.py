"""``torch_compile``: torch.compile of an actor-critic's encoder and heads, in the learner or the inference workers.

Only :meth:`~sf_runtime.model.ActorCritic.forward_head` (the encoder) and
:meth:`~sf_runtime.model.ActorCritic.forward_tail` (decoder, value and action heads) are compiled, as bound methods of
the instance with dynamic shapes: batch sizes change from call to call (inference batches, minibatches) and must not
recompile each time. The recurrent core (a loop over time with resets) and the action distributions stay eager. The
module's parameters, ``state_dict`` keys and checkpoints are those of the uncompiled model.
"""

from __future__ import annotations

import importlib.util
import logging

import torch

from sf_runtime.model.actor_critic import ActorCritic

log = logging.getLogger(__name__)

COMPILE_CHOICES = ("off", "learner", "inference", "both")


def compiles_in(setting: str, role: str) -> bool:
    """Whether ``torch_compile=setting`` compiles the model of ``role`` ("learner" or "inference")."""
    if setting not in COMPILE_CHOICES:
        raise ValueError(f"torch_compile={setting!r}: expected one of {COMPILE_CHOICES}")
    return setting in (role, "both")


def compile_actor_critic(actor_critic: ActorCritic, device: torch.device) -> ActorCritic:
    """Compile the encoder and heads of ``actor_critic`` (on ``device``) in place and return it.

    Raises:
        RuntimeError: torch.compile cannot work here (no triton for a CUDA device, or no torch.compile at all).
    """
    if not hasattr(torch, "compile"):
        raise RuntimeError("torch_compile: this torch has no torch.compile; use torch_compile='off'")
    if device.type == "cuda" and importlib.util.find_spec("triton") is None:
        raise RuntimeError("torch_compile on a GPU needs triton (pip install triton); use torch_compile='off'")
    actor_critic.forward_head = torch.compile(actor_critic.forward_head, dynamic=True)
    actor_critic.forward_tail = torch.compile(actor_critic.forward_tail, dynamic=True)
    log.info("torch.compile: forward_head and forward_tail of %s (compiled at their first call)", type(actor_critic))
    return actor_critic
