"""Optimizers: Adam (PyTorch's) and LAMB, chosen by ``optimizer``."""

from __future__ import annotations

from collections.abc import Iterable

import torch

OPTIMIZERS = ("adam", "lamb")


class Lamb(torch.optim.Optimizer):
    """LAMB, layer-wise adaptive moments (You et al. 2019, "Large Batch Optimization for Deep Learning", alg. 2).

    Per parameter tensor w with gradient g at step t:
    ``m = β1 m + (1-β1) g``, ``v = β2 v + (1-β2) g²``, ``m̂ = m / (1-β1^t)``, ``v̂ = v / (1-β2^t)``,
    ``u = m̂ / (sqrt(v̂) + ε) + λ w`` and ``w ← w - η (‖w‖ / ‖u‖) u``; the trust ratio ``‖w‖ / ‖u‖`` is 1 when either
    norm is zero.

    Args:
        params: Parameters to optimize.
        lr: η.
        betas: (β1, β2).
        eps: ε.
        weight_decay: λ.
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ):
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"invalid LAMB hyperparameters lr={lr}, betas={betas}, eps={eps}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = float(state["step"])
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                m_hat = m / (1 - beta1**t)
                v_hat = v / (1 - beta2**t)
                update = m_hat / (v_hat.sqrt() + group["eps"])
                if group["weight_decay"] != 0:
                    update.add_(p, alpha=group["weight_decay"])
                w_norm = torch.linalg.vector_norm(p)
                u_norm = torch.linalg.vector_norm(update)
                trust_ratio = torch.where((w_norm > 0) & (u_norm > 0), w_norm / u_norm, torch.ones_like(w_norm))
                p.sub_(update * (group["lr"] * trust_ratio))
        return loss


def make_optimizer(cfg, params: Iterable) -> torch.optim.Optimizer:
    """The optimizer named by ``cfg.optimizer`` with ``learning_rate``, ``adam_beta1``, ``adam_beta2``, ``adam_eps``."""
    kwargs = {
        "lr": float(cfg.learning_rate),
        "betas": (float(cfg.adam_beta1), float(cfg.adam_beta2)),
        "eps": float(cfg.adam_eps),
    }
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, **kwargs)
    if cfg.optimizer == "lamb":
        return Lamb(params, **kwargs)
    raise ValueError(f"optimizer={cfg.optimizer!r} is not supported; accepted: {list(OPTIMIZERS)}")
