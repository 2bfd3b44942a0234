"""The APPO objective: PPO's clipped surrogate (Schulman et al. 2017) on asynchronously collected experience.

For a minibatch of samples, with the learner policy π_θ and the behaviour policy π_θold that produced the actions:

- ratio ``r_t(θ) = π_θ(a_t|s_t) / π_θold(a_t|s_t)``;
- policy loss ``-E_t[min(r_t(θ) Â_t, clip(r_t(θ), 1/(1+ε), 1+ε) Â_t)]``; the clip range is symmetric in log space
  (``ppo_clip_ratio`` = ε);
- value loss ``c_v E_t[max((V_θ(s_t) - V_t^targ)², (V_clip - V_t^targ)²)]`` with
  ``V_clip = V_θold(s_t) + clip(V_θ(s_t) - V_θold(s_t), -ε_v, ε_v)`` (``ppo_clip_value`` = ε_v,
  ``value_loss_coeff`` = c_v);
- exploration loss ``-c_e E_t[H(π_θ(·|s_t))]`` (``entropy``) or ``c_e E_t[KL(π_θ‖U) + KL(U‖π_θ)]``
  (``symmetric_kl``, U uniform), ``exploration_loss_coeff`` = c_e;
- KL loss ``c_kl E_t[KL(π_θold(·|s_t) ‖ π_θ(·|s_t))]`` (``kl_loss_coeff`` = c_kl).

Expectations are means over the valid samples of the minibatch only (``mask``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def masked_mean(x: torch.Tensor, mask: torch.Tensor, num_valid: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over the entries where ``mask`` (float 0/1) is 1; ``num_valid`` is ``max(mask.sum(), 1)``."""
    return (x * mask).sum() / num_valid


def clipped_ratio(ratio: torch.Tensor, clip_ratio: float) -> torch.Tensor:
    """``clip(r_t(θ), 1/(1+ε), 1+ε)``."""
    return torch.clamp(ratio, 1.0 / (1.0 + clip_ratio), 1.0 + clip_ratio)


def policy_loss(ratio: torch.Tensor, advantages: torch.Tensor, clip_ratio: float) -> torch.Tensor:
    """Per-sample PPO clipped surrogate loss, ``-min(r_t Â_t, clip(r_t) Â_t)``."""
    surrogate = ratio * advantages
    clipped_surrogate = clipped_ratio(ratio, clip_ratio) * advantages
    return -torch.min(surrogate, clipped_surrogate)


def value_loss(
    values: torch.Tensor, old_values: torch.Tensor, targets: torch.Tensor, clip_value: float
) -> torch.Tensor:
    """Per-sample clipped value loss, ``max((V - V^targ)², (V_clip - V^targ)²)``."""
    clipped_values = old_values + torch.clamp(values - old_values, -clip_value, clip_value)
    return torch.max((values - targets).square(), (clipped_values - targets).square())


@dataclass(frozen=True)
class LossCoefficients:
    """The weights and clip ranges of the APPO loss, read from the configuration."""

    clip_ratio: float
    clip_value: float
    value_loss_coeff: float
    exploration_loss_coeff: float
    exploration_loss: str
    kl_loss_coeff: float

    @classmethod
    def from_cfg(cls, cfg) -> LossCoefficients:
        if cfg.exploration_loss not in ("entropy", "symmetric_kl"):
            raise ValueError(
                f"exploration_loss={cfg.exploration_loss!r} is not supported; accepted: ['entropy', 'symmetric_kl']"
            )
        return cls(
            clip_ratio=float(cfg.ppo_clip_ratio),
            clip_value=float(cfg.ppo_clip_value),
            value_loss_coeff=float(cfg.value_loss_coeff),
            exploration_loss_coeff=float(cfg.exploration_loss_coeff),
            exploration_loss=cfg.exploration_loss,
            kl_loss_coeff=float(cfg.kl_loss_coeff),
        )


def appo_loss(
    dist,
    old_dist,
    actions: torch.Tensor,
    old_log_probs: torch.Tensor,
    advantages: torch.Tensor,
    values: torch.Tensor,
    old_values: torch.Tensor,
    value_targets: torch.Tensor,
    mask: torch.Tensor,
    coeffs: LossCoefficients,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The total APPO loss of a minibatch and its terms.

    Args:
        dist: π_θ(·|s_t), the current action distribution of the N samples.
        old_dist: π_θold(·|s_t), rebuilt from the stored action logits.
        actions: a_t, [N, ...].
        old_log_probs: log π_θold(a_t|s_t), [N].
        advantages: Â_t, [N] (already normalized).
        values: V_θ(s_t), [N].
        old_values: V_θold(s_t), [N] (same space as ``values``).
        value_targets: V_t^targ, [N] (same space as ``values``).
        mask: [N] float, 1 for samples that count.
        coeffs: The loss weights and clip ranges.

    Returns:
        ``(loss, terms)``: the scalar to minimize and a dict of detached scalar tensors for statistics.
    """
    num_valid = mask.sum().clamp(min=1.0)

    log_probs = dist.log_prob(actions)
    ratio = torch.exp(log_probs - old_log_probs)  # r_t(θ)
    policy = masked_mean(policy_loss(ratio, advantages, coeffs.clip_ratio), mask, num_valid)

    critic = coeffs.value_loss_coeff * masked_mean(
        value_loss(values, old_values, value_targets, coeffs.clip_value), mask, num_valid
    )

    entropy = masked_mean(dist.entropy(), mask, num_valid)
    if coeffs.exploration_loss == "entropy":
        exploration = -coeffs.exploration_loss_coeff * entropy
    else:
        exploration = coeffs.exploration_loss_coeff * masked_mean(dist.symmetric_kl_with_uniform(), mask, num_valid)

    kl = masked_mean(old_dist.kl_divergence(dist), mask, num_valid)  # KL(π_θold ‖ π_θ)
    kl_penalty = coeffs.kl_loss_coeff * kl

    loss = policy + critic + exploration + kl_penalty

    with torch.no_grad():
        clip_low, clip_high = 1.0 / (1.0 + coeffs.clip_ratio), 1.0 + coeffs.clip_ratio
        clipped = ((ratio < clip_low) | (ratio > clip_high)).float()
        terms = {
            "loss": loss.detach(),
            "policy_loss": policy.detach(),
            "value_loss": critic.detach(),
            "exploration_loss": exploration.detach(),
            "kl_loss": kl_penalty.detach(),
            "entropy": entropy.detach(),
            "kl_divergence": kl.detach(),
            "ratio_mean": masked_mean(ratio, mask, num_valid),
            "clip_fraction": masked_mean(clipped, mask, num_valid),
            "value": masked_mean(values.detach(), mask, num_valid),
        }
    return loss, terms
