# ruff: noqa: RUF002  (the docstrings write the papers' Greek letters: gamma, rho)
"""Advantage and value-target estimators over trajectories in [B, T] layout.

``dones[:, t]`` marks the last step of an episode (terminated or truncated); nothing is bootstrapped across it: the
discount of that step is 0 (a time-out's missing future is added to its reward beforehand when ``value_bootstrap``
is on, see :func:`bootstrap_time_outs`).
"""

from __future__ import annotations

import torch


def bootstrap_time_outs(
    rewards: torch.Tensor, values: torch.Tensor, time_outs: torch.Tensor, gamma: float
) -> torch.Tensor:
    """``r_t + γ V(s_t)`` on steps that ended by a time limit, ``r_t`` elsewhere.

    The environment resets automatically, so the observation after a truncated step belongs to the next episode and
    its value cannot be used; the value of the truncated step's own state, ``V(s_t)``, stands in for the value of the
    state that follows it.

    Args:
        rewards: [B, T].
        values: V(s_t), [B, T] (returns space, not normalized).
        time_outs: [B, T], true where the episode was truncated.
        gamma: Discount factor γ.
    """
    return rewards + gamma * values * time_outs.to(rewards.dtype)


def gae(
    rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, gamma: float, gae_lambda: float
) -> torch.Tensor:
    """Generalized Advantage Estimation (Schulman et al. 2016).

    ``δ_t = r_t + γ (1 - d_t) V(s_{t+1}) - V(s_t)`` and ``Â_t = δ_t + γ λ (1 - d_t) Â_{t+1}``, with ``Â_T = 0``.

    Args:
        rewards: r_t, [B, T].
        values: V(s_t) for t = 0..T, [B, T+1] (index T is the bootstrap value).
        dones: d_t, [B, T].
        gamma: Discount factor γ.
        gae_lambda: λ.

    Returns:
        The advantages Â_t, [B, T]; the value targets (λ-returns) are ``Â_t + V(s_t)``.
    """
    not_done = 1.0 - dones.to(rewards.dtype)
    discounts = gamma * not_done
    deltas = rewards + discounts * values[:, 1:] - values[:, :-1]
    advantages = torch.empty_like(rewards)
    next_advantage = torch.zeros_like(rewards[:, 0])
    decay = discounts * gae_lambda
    for t in range(rewards.shape[1] - 1, -1, -1):
        next_advantage = deltas[:, t] + decay[:, t] * next_advantage
        advantages[:, t] = next_advantage
    return advantages


def vtrace(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    log_rhos: torch.Tensor,
    gamma: float,
    rho_bar: float,
    c_bar: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """V-trace targets and policy-gradient advantages (Espeholt et al. 2018, IMPALA, section 4).

    With importance ratios ``π(a_t|x_t) / μ(a_t|x_t)`` of the learner policy π over the behaviour policy μ:
    ``ρ_t = min(ρ̄, π/μ)``, ``c_t = min(c̄, π/μ)``, ``δ_t V = ρ_t (r_t + γ_t V(x_{t+1}) - V(x_t))`` with
    ``γ_t = γ (1 - d_t)``, and the targets satisfy ``v_s = V(x_s) + δ_s V + γ_s c_s (v_{s+1} - V(x_{s+1}))``
    with ``v_T = V(x_T)``. The policy gradient uses ``ρ_s (r_s + γ_s v_{s+1} - V(x_s))``.

    Args:
        rewards: r_t, [B, T].
        values: V(x_t) for t = 0..T, [B, T+1].
        dones: d_t, [B, T].
        log_rhos: ``log π(a_t|x_t) - log μ(a_t|x_t)``, [B, T].
        gamma: γ.
        rho_bar: ρ̄ (``vtrace_rho``).
        c_bar: c̄ (``vtrace_c``).

    Returns:
        ``(vs, pg_advantages)``, both [B, T].
    """
    discounts = gamma * (1.0 - dones.to(rewards.dtype))
    ratios = torch.exp(log_rhos)
    rhos = torch.clamp(ratios, max=rho_bar)
    cs = torch.clamp(ratios, max=c_bar)
    deltas = rhos * (rewards + discounts * values[:, 1:] - values[:, :-1])

    vs_minus_v = torch.empty_like(rewards)
    next_vs_minus_v = torch.zeros_like(rewards[:, 0])
    for t in range(rewards.shape[1] - 1, -1, -1):
        next_vs_minus_v = deltas[:, t] + discounts[:, t] * cs[:, t] * next_vs_minus_v
        vs_minus_v[:, t] = next_vs_minus_v
    vs = vs_minus_v + values[:, :-1]

    vs_next = torch.cat([vs[:, 1:], values[:, -1:]], dim=1)
    pg_advantages = rhos * (rewards + discounts * vs_next - values[:, :-1])
    return vs, pg_advantages
