"""Action distributions over flat ``action_logits``, one class per component kind plus a Tuple of them.

Every distribution offers ``sample()``, ``mode()`` (the deterministic action), ``log_prob(actions) -> [B]``,
``entropy() -> [B]``, ``kl_divergence(other) -> [B]`` (KL(self || other), analytic) and
``symmetric_kl_with_uniform() -> [B]`` (categorical parts only). Invalid actions of an ``action_mask`` get zero
probability: their logits are replaced by the most negative float before the softmax.
"""

from __future__ import annotations

import math

import gymnasium as gym
import torch

from sf_runtime.model.action_spaces import ActionComponent, action_components, action_layout

_LOG_STD_MIN, _LOG_STD_MAX = -10.0, 4.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _plogp_terms(p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # p * x where p == 0 contributes exactly 0 (x may be a huge negative number for masked logits)
    return torch.where(p > 0, p * x, torch.zeros_like(x))


class CategoricalDistribution:
    """A categorical over ``n`` actions, from unnormalized logits [B, n] and an optional boolean mask [B, n]."""

    def __init__(self, logits: torch.Tensor, mask: torch.Tensor | None = None):
        if mask is not None:
            logits = logits.masked_fill(~mask, torch.finfo(logits.dtype).min)
        self.logits = logits
        self.mask = mask
        self.log_probs = torch.log_softmax(logits, dim=-1)
        self._probs = None

    @property
    def probs(self) -> torch.Tensor:
        if self._probs is None:
            self._probs = self.log_probs.exp()
        return self._probs

    def sample(self) -> torch.Tensor:
        # Gumbel-max: argmax(log p_i + g_i) with g_i = -log(E_i), E_i ~ Exp(1), is a sample of p (cheaper than
        # torch.multinomial for small batches); masked categories keep a hugely negative score
        return (self.log_probs - torch.empty_like(self.log_probs).exponential_().log()).argmax(dim=-1)

    def mode(self) -> torch.Tensor:
        return self.log_probs.argmax(dim=-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        return self.log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        return -_plogp_terms(self.probs, self.log_probs).sum(-1)

    def kl_divergence(self, other: CategoricalDistribution) -> torch.Tensor:
        return _plogp_terms(self.probs, self.log_probs - other.log_probs).sum(-1)

    def symmetric_kl_with_uniform(self) -> torch.Tensor:
        """KL(π || U) + KL(U || π), with U uniform over the valid actions."""
        if self.mask is None:
            n = torch.full(self.log_probs.shape[:-1], float(self.log_probs.shape[-1]), device=self.logits.device)
            valid = torch.ones_like(self.log_probs, dtype=torch.bool)
        else:
            valid = self.mask
            n = valid.sum(-1).clamp(min=1).to(self.log_probs.dtype)
        log_u = -torch.log(n).unsqueeze(-1)
        kl_pi_u = _plogp_terms(self.probs, self.log_probs - log_u).sum(-1)
        u = valid.to(self.log_probs.dtype) / n.unsqueeze(-1)
        kl_u_pi = _plogp_terms(u, log_u - self.log_probs).sum(-1)
        return kl_pi_u + kl_u_pi


class MultiCategoricalDistribution:
    """Independent categoricals with ``nvec`` categories (MultiDiscrete); actions [B, k]."""

    def __init__(self, logits: torch.Tensor, nvec: tuple[int, ...], mask: torch.Tensor | None = None):
        logit_parts = torch.split(logits, list(nvec), dim=-1)
        mask_parts = torch.split(mask, list(nvec), dim=-1) if mask is not None else [None] * len(nvec)
        self.parts = [CategoricalDistribution(lg, m) for lg, m in zip(logit_parts, mask_parts, strict=True)]

    def sample(self) -> torch.Tensor:
        return torch.stack([p.sample() for p in self.parts], dim=-1)

    def mode(self) -> torch.Tensor:
        return torch.stack([p.mode() for p in self.parts], dim=-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        return sum(p.log_prob(actions[..., i]) for i, p in enumerate(self.parts))

    def entropy(self) -> torch.Tensor:
        return sum(p.entropy() for p in self.parts)

    def kl_divergence(self, other: MultiCategoricalDistribution) -> torch.Tensor:
        return sum(p.kl_divergence(q) for p, q in zip(self.parts, other.parts, strict=True))

    def symmetric_kl_with_uniform(self) -> torch.Tensor:
        return sum(p.symmetric_kl_with_uniform() for p in self.parts)


class GaussianDistribution:
    """A diagonal Gaussian; ``logits`` [B, 2d] are the d means then the d log standard deviations."""

    def __init__(self, logits: torch.Tensor):
        self.means, log_stds = logits.chunk(2, dim=-1)
        self.log_stds = log_stds.clamp(_LOG_STD_MIN, _LOG_STD_MAX)
        self.stds = self.log_stds.exp()

    def sample(self) -> torch.Tensor:
        return self.means + self.stds * torch.randn_like(self.means)

    def mode(self) -> torch.Tensor:
        return self.means

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        z = (actions - self.means) / self.stds
        return (-0.5 * z.square() - self.log_stds - _HALF_LOG_2PI).sum(-1)

    def entropy(self) -> torch.Tensor:
        return (0.5 + _HALF_LOG_2PI + self.log_stds).sum(-1)

    def kl_divergence(self, other: GaussianDistribution) -> torch.Tensor:
        var_ratio = (self.stds / other.stds).square()
        mean_term = ((self.means - other.means) / other.stds).square()
        return (0.5 * (var_ratio + mean_term - 1.0) - torch.log(self.stds / other.stds)).sum(-1)

    def symmetric_kl_with_uniform(self) -> torch.Tensor:
        raise ValueError(
            "exploration_loss='symmetric_kl' needs a uniform prior, which a Gaussian (Box) action has not; "
            "use exploration_loss='entropy'"
        )


class TupleDistribution:
    """Independent parts of a Tuple action space; actions are the concatenation of the parts' slots."""

    def __init__(self, parts: list, slot_sizes: list[int], action_dtype: torch.dtype):
        self.parts = parts
        self.slot_sizes = slot_sizes
        self.action_dtype = action_dtype

    def _split(self, actions: torch.Tensor):
        out = []
        for part, chunk in zip(self.parts, torch.split(actions, self.slot_sizes, dim=-1), strict=True):
            out.append(chunk.squeeze(-1) if isinstance(part, CategoricalDistribution) else chunk)
        return out

    def _join(self, actions: list[torch.Tensor]) -> torch.Tensor:
        flat = [a.unsqueeze(-1) if a.dim() == 1 else a for a in actions]
        return torch.cat([a.to(self.action_dtype) for a in flat], dim=-1)

    def sample(self) -> torch.Tensor:
        return self._join([p.sample() for p in self.parts])

    def mode(self) -> torch.Tensor:
        return self._join([p.mode() for p in self.parts])

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        parts = self._split(actions)
        return sum(p.log_prob(a) for p, a in zip(self.parts, parts, strict=True))

    def entropy(self) -> torch.Tensor:
        return sum(p.entropy() for p in self.parts)

    def kl_divergence(self, other: TupleDistribution) -> torch.Tensor:
        return sum(p.kl_divergence(q) for p, q in zip(self.parts, other.parts, strict=True))

    def symmetric_kl_with_uniform(self) -> torch.Tensor:
        return sum(p.symmetric_kl_with_uniform() for p in self.parts)


def _component_distribution(component: ActionComponent, logits: torch.Tensor, mask: torch.Tensor | None):
    if component.kind == "categorical":
        return CategoricalDistribution(logits, mask)
    if component.kind == "multi_categorical":
        return MultiCategoricalDistribution(logits, component.nvec, mask)
    return GaussianDistribution(logits)


def make_action_distribution(
    action_space: gym.Space, action_logits: torch.Tensor, action_mask: torch.Tensor | None = None
):
    """Builds the distribution of ``action_space`` from flat ``action_logits`` [B, P].

    Args:
        action_space: The per-agent action space.
        action_logits: Distribution parameters laid out as :func:`action_layout` counts them.
        action_mask: Optional [B, M] mask (nonzero = allowed) over the categories of the discrete parts, in order.
    """
    _, dtype, _ = action_layout(action_space)
    return distribution_from_components(action_components(action_space), dtype, action_logits, action_mask)


def distribution_from_components(
    components: list[ActionComponent],
    action_dtype: torch.dtype,
    action_logits: torch.Tensor,
    action_mask: torch.Tensor | None = None,
):
    """:func:`make_action_distribution` with the space already analysed (what models call on every forward)."""
    mask = action_mask.bool() if action_mask is not None else None
    if len(components) == 1:
        return _component_distribution(components[0], action_logits, mask)
    parts = []
    logit_parts = torch.split(action_logits, [c.num_logits for c in components], dim=-1)
    mask_offset = 0
    for component, logits in zip(components, logit_parts, strict=True):
        part_mask = None
        if mask is not None and component.kind != "gaussian":
            part_mask = mask[..., mask_offset : mask_offset + component.num_logits]
            mask_offset += component.num_logits
        parts.append(_component_distribution(component, logits, part_mask))
    return TupleDistribution(parts, [c.num_slots for c in components], action_dtype)
