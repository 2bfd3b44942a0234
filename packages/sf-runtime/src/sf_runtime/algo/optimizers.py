"""Optimizers: Adam (Kingma and Ba 2015) and LAMB (You et al. 2019), chosen by ``optimizer``.

Both are written here on a small base class instead of ``torch.optim.Optimizer``: the first use of a
``torch.optim`` optimizer imports ``torch._dynamo``, which costs several seconds at the start of every learner
process and test. The update rules are PyTorch's (``Adam`` matches ``torch.optim.Adam`` with its defaults).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

OPTIMIZERS = ("adam", "lamb")


class _Optimizer:
    """Parameter groups, ``zero_grad`` and a ``weights_only``-loadable ``state_dict``, like ``torch.optim``'s.

    Args:
        params: Parameters, or dicts of parameter groups (``{"params": [...], "lr": ...}``).
        defaults: Hyperparameters of every group that does not set its own.
    """

    def __init__(self, params: Iterable, defaults: dict):
        params = list(params)
        groups = params if params and isinstance(params[0], dict) else [{"params": params}]
        self.defaults = dict(defaults)
        self.param_groups = [{**defaults, **group, "params": list(group["params"])} for group in groups]
        self.state: dict[torch.Tensor, dict[str, torch.Tensor]] = {}

    def _all_params(self) -> list[torch.Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drops (or zeroes) the gradients of all parameters."""
        for p in self._all_params():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.zero_()

    def state_dict(self) -> dict:
        """Per-parameter state by parameter index, and the groups' hyperparameters."""
        index = {id(p): i for i, p in enumerate(self._all_params())}
        groups = [
            {**{k: v for k, v in g.items() if k != "params"}, "params": [index[id(p)] for p in g["params"]]}
            for g in self.param_groups
        ]
        state = {index[id(p)]: {k: v.clone() for k, v in s.items()} for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores a :meth:`state_dict` made for the same parameters (same order and shapes)."""
        params = self._all_params()
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups) or any(
            len(s["params"]) != len(g["params"]) for s, g in zip(saved_groups, self.param_groups, strict=True)
        ):
            raise ValueError("the optimizer state was saved for a different set of parameters")
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            self.state[p] = {k: v.to(device=p.device) for k, v in s.items()}

    def _moments(self, p: torch.Tensor) -> dict[str, torch.Tensor]:
        state = self.state.get(p)
        if state is None:
            state = {
                "step": torch.zeros((), dtype=torch.float32),
                "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
            }
            self.state[p] = state
        return state


class Adam(_Optimizer):
    """Adam: ``m = β1 m + (1-β1) g``, ``v = β2 v + (1-β2) g²``,
    ``w ← w - lr / (1-β1^t) · m / (sqrt(v) / sqrt(1-β2^t) + ε)``.

    Args:
        params: Parameters to optimize.
        lr: Learning rate.
        betas: (β1, β2).
        eps: ε.
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps=1e-8):
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"invalid Adam hyperparameters lr={lr}, betas={betas}, eps={eps}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            # parameters are updated together (one multi-tensor op each) when they share a step count
            by_step: dict[float, list[torch.Tensor]] = {}
            for p in group["params"]:
                if p.grad is not None:
                    state = self._moments(p)
                    state["step"] += 1
                    by_step.setdefault(float(state["step"]), []).append(p)
            for t, params in by_step.items():
                grads = [p.grad for p in params]
                exp_avgs = [self.state[p]["exp_avg"] for p in params]
                exp_avg_sqs = [self.state[p]["exp_avg_sq"] for p in params]
                torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
                torch._foreach_mul_(exp_avg_sqs, beta2)
                torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
                step_size = group["lr"] / (1 - beta1**t)
                denom = torch._foreach_sqrt(exp_avg_sqs)
                torch._foreach_div_(denom, math.sqrt(1 - beta2**t))
                torch._foreach_add_(denom, group["eps"])
                torch._foreach_addcdiv_(params, exp_avgs, denom, value=-step_size)


class Lamb(_Optimizer):
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
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._moments(p)
                state["step"] += 1
                t = float(state["step"])
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.lerp_(p.grad, 1 - beta1)
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


def make_optimizer(cfg, params: Iterable) -> Adam | Lamb:
    """The optimizer named by ``cfg.optimizer`` with ``learning_rate``, ``adam_beta1``, ``adam_beta2``, ``adam_eps``."""
    kwargs = {
        "lr": float(cfg.learning_rate),
        "betas": (float(cfg.adam_beta1), float(cfg.adam_beta2)),
        "eps": float(cfg.adam_eps),
    }
    if cfg.optimizer == "adam":
        return Adam(params, **kwargs)
    if cfg.optimizer == "lamb":
        return Lamb(params, **kwargs)
    raise ValueError(f"optimizer={cfg.optimizer!r} is not supported; accepted: {list(OPTIMIZERS)}")
