"""Data-parallel training of one policy by several processes (torch.distributed): what every rank does.

Each rank holds a full :class:`~sf_runtime.learning.Learner` and trains on its own share of every batch. The ranks
stay identical because every update applies the same gradient everywhere:

- after each backward pass (:attr:`Learner.after_backward`, before gradient clipping) :class:`GradientAverager`
  all-reduces the gradients of all trained parameters as one flat tensor and divides by the world size, the rule of
  DDP; clipping and the optimizer step then see the same numbers on every rank;
- after each training call :func:`average_buffers` averages the model's floating buffers (observation and return
  normalizer statistics, which each rank updated with its own share), so the next call starts from the same state;
- :func:`weights_digest` fingerprints the weights. The averager records one digest per update (the weights each
  update starts from) and one after the buffers are averaged; the driver compares the lists of all ranks and stops
  the run if they ever differ.

The DDP module wrapper is not used because the learner evaluates its model through ``evaluate_chunks`` rather than
``forward``, and DDP's reducer hooks only arm inside ``forward``; the all-reduce is the same.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import torch
import torch.distributed as dist


def init_process_group(init_method: str, rank: int, world_size: int, device: torch.device, timeout_s: float) -> None:
    """Join the learner group: NCCL when the learner runs on a GPU, gloo on the CPU."""
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(
        backend,
        init_method=init_method,
        rank=rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=timeout_s),
    )


def leave_process_group() -> None:
    """Leave the learner group, if this process is in one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def weights_digest(module: torch.nn.Module, with_buffers: bool = False) -> str:
    """A fingerprint of a module's parameters (and persistent buffers): equal digests mean equal bits."""
    digest = hashlib.blake2b(digest_size=16)
    tensors = module.state_dict().values() if with_buffers else module.parameters()
    for tensor in tensors:
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class GradientAverager:
    """The learner's ``after_backward``: averages the gradients over the ranks, recording a digest per update.

    Args:
        module: the rank's actor-critic (digested before each update).
        world_size: ranks in the group.
    """

    def __init__(self, module: torch.nn.Module, world_size: int) -> None:
        self.module = module
        self.world_size = world_size
        self.digests: list[str] = []

    def __call__(self, params: list[torch.Tensor]) -> None:
        self.digests.append(weights_digest(self.module))
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat.div_(self.world_size)
        offset = 0
        for p in params:
            n = p.numel()
            chunk = flat[offset : offset + n].view_as(p)
            if p.grad is None:
                p.grad = chunk.clone()
            else:
                p.grad.copy_(chunk)
            offset += n

    def take_digests(self) -> list[str]:
        """The digests recorded since the last call."""
        digests, self.digests = self.digests, []
        return digests


@torch.no_grad()
def average_buffers(module: torch.nn.Module, world_size: int) -> None:
    """Average the module's floating persistent buffers over the ranks (the normalizers' statistics).

    The state dict is loaded back into the module so that derived caches (a normalizer's float32 copies) follow.
    """
    state = module.state_dict()
    names = {name for name, _ in module.named_parameters()}
    buffers = [v for k, v in state.items() if k not in names and v.is_floating_point()]
    if not buffers:
        return
    flat = torch.cat([b.reshape(-1).to(torch.float64) for b in buffers])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat.div_(world_size)
    offset = 0
    for b in buffers:
        n = b.numel()
        b.copy_(flat[offset : offset + n].view_as(b).to(b.dtype))
        offset += n
    module.load_state_dict(state)


def train_rank(learner: Any, averager: GradientAverager, batch: dict, env_steps: int) -> tuple[dict, list[str]]:
    """One training call of a rank: train on its share, average the buffers, digest.

    Returns:
        ``(stats, digests)``: the learner's statistics, and the digest of the weights before each update plus the
        digest of weights and buffers after the call.
    """
    stats = learner.train(batch, env_steps=env_steps)
    average_buffers(learner.actor_critic, averager.world_size)
    digests = averager.take_digests()
    digests.append(weights_digest(learner.actor_critic, with_buffers=True))
    return stats, digests
