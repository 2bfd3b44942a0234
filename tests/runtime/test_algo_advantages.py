# ruff: noqa: RUF002  (docstrings write the papers' Greek letters)
"""GAE, V-trace and the time-out bootstrap against hand-computed numbers and definition-level references."""

import math

import pytest
import torch

from sf_runtime.algo import bootstrap_time_outs, gae, vtrace


def _row(*values):
    return torch.tensor([values], dtype=torch.float64)


def test_gae_matches_hand_computation():
    # gamma=0.9, lambda=0.8; the episode ends at step 1.
    # delta_2 = 3 + 0.9*2.0 - 1.5 = 3.3; delta_1 = 2 - 1.0 = 1.0; delta_0 = 1 + 0.9*1.0 - 0.5 = 1.4
    # A_2 = 3.3; A_1 = 1.0 (nothing flows across the done); A_0 = 1.4 + 0.72*1.0 = 2.12
    adv = gae(_row(1.0, 2.0, 3.0), _row(0.5, 1.0, 1.5, 2.0), _row(0, 1, 0), gamma=0.9, gae_lambda=0.8)
    torch.testing.assert_close(adv, _row(2.12, 1.0, 3.3))


def _gae_reference(rewards, values, dones, gamma, lam):
    """Â_t = Σ_k (γλ)^k δ_{t+k}, summed until the episode ends (definition, O(T²))."""
    b, t_len = rewards.shape
    out = torch.zeros_like(rewards)
    for i in range(b):
        for t in range(t_len):
            total, weight = 0.0, 1.0
            for k in range(t, t_len):
                nonterminal = 1.0 - float(dones[i, k])
                delta = rewards[i, k] + gamma * nonterminal * values[i, k + 1] - values[i, k]
                total += weight * delta
                if nonterminal == 0.0:
                    break
                weight *= gamma * lam
            out[i, t] = total
    return out


@pytest.mark.parametrize("lam", [0.0, 0.5, 0.95, 1.0])
def test_gae_matches_definition_on_random_trajectories(lam):
    g = torch.Generator().manual_seed(1)
    rewards = torch.randn(4, 12, generator=g, dtype=torch.float64)
    values = torch.randn(4, 13, generator=g, dtype=torch.float64)
    dones = (torch.rand(4, 12, generator=g) < 0.2).double()
    expected = _gae_reference(rewards, values, dones, 0.97, lam)
    torch.testing.assert_close(gae(rewards, values, dones, 0.97, lam), expected)


def test_gae_with_lambda_one_gives_discounted_returns():
    rewards = _row(1.0, 0.0, 2.0)
    values = _row(0.3, -0.2, 0.7, 5.0)
    returns = gae(rewards, values, torch.zeros(1, 3), gamma=0.5, gae_lambda=1.0) + values[:, :-1]
    # G_0 = 1 + 0.5*0 + 0.25*2 + 0.125*5 = 2.125; G_1 = 0 + 0.5*2 + 0.25*5 = 2.25; G_2 = 2 + 0.5*5 = 4.5
    torch.testing.assert_close(returns, _row(2.125, 2.25, 4.5))


def test_vtrace_matches_hand_computation():
    # gamma=0.5, ratios pi/mu = [2, 0.5], rho_bar = c_bar = 1 -> rho = c = [1, 0.5]
    # delta_0 = 1*(1 + 0.5*2 - 1) = 1; delta_1 = 0.5*(1 + 0.5*3 - 2) = 0.25
    # v_1 = 2 + 0.25 = 2.25; v_0 = 1 + 1 + 0.5*1*0.25 = 2.125
    # pg_0 = 1*(1 + 0.5*2.25 - 1) = 1.125; pg_1 = 0.5*(1 + 0.5*3 - 2) = 0.25
    log_rhos = torch.log(_row(2.0, 0.5))
    vs, pg = vtrace(_row(1.0, 1.0), _row(1.0, 2.0, 3.0), _row(0, 0), log_rhos, gamma=0.5, rho_bar=1.0, c_bar=1.0)
    torch.testing.assert_close(vs, _row(2.125, 2.25))
    torch.testing.assert_close(pg, _row(1.125, 0.25))


def _vtrace_reference(rewards, values, dones, log_rhos, gamma, rho_bar, c_bar):
    """v_s = V(x_s) + Σ_{t≥s} (Π_{i<t} γ_i c_i) δ_t V, the IMPALA paper's definition written as a sum."""
    b, t_len = rewards.shape
    ratio = log_rhos.exp()
    rho, c = ratio.clamp(max=rho_bar), ratio.clamp(max=c_bar)
    disc = gamma * (1.0 - dones)
    delta = rho * (rewards + disc * values[:, 1:] - values[:, :-1])
    vs = torch.zeros_like(rewards)
    for i in range(b):
        for s in range(t_len):
            total, weight = values[i, s].clone(), 1.0
            for t in range(s, t_len):
                total += weight * delta[i, t]
                weight = weight * disc[i, t] * c[i, t]
            vs[i, s] = total
    vs_next = torch.cat([vs[:, 1:], values[:, -1:]], dim=1)
    pg = rho * (rewards + disc * vs_next - values[:, :-1])
    return vs, pg


@pytest.mark.parametrize(("rho_bar", "c_bar"), [(1.0, 1.0), (0.5, 0.9), (10.0, 10.0)])
def test_vtrace_matches_definition_on_random_trajectories(rho_bar, c_bar):
    g = torch.Generator().manual_seed(2)
    rewards = torch.randn(3, 10, generator=g, dtype=torch.float64)
    values = torch.randn(3, 11, generator=g, dtype=torch.float64)
    dones = (torch.rand(3, 10, generator=g) < 0.25).double()
    log_rhos = 0.5 * torch.randn(3, 10, generator=g, dtype=torch.float64)
    vs, pg = vtrace(rewards, values, dones, log_rhos, 0.9, rho_bar, c_bar)
    vs_ref, pg_ref = _vtrace_reference(rewards, values, dones, log_rhos, 0.9, rho_bar, c_bar)
    torch.testing.assert_close(vs, vs_ref)
    torch.testing.assert_close(pg, pg_ref)


def test_on_policy_vtrace_targets_equal_lambda_one_returns():
    g = torch.Generator().manual_seed(3)
    rewards = torch.randn(2, 8, generator=g, dtype=torch.float64)
    values = torch.randn(2, 9, generator=g, dtype=torch.float64)
    dones = (torch.rand(2, 8, generator=g) < 0.2).double()
    vs, _ = vtrace(rewards, values, dones, torch.zeros(2, 8, dtype=torch.float64), 0.95, 1.0, 1.0)
    returns = gae(rewards, values, dones, 0.95, 1.0) + values[:, :-1]
    torch.testing.assert_close(vs, returns)


def test_bootstrap_time_outs_adds_discounted_value_only_on_time_outs():
    rewards = _row(1.0, 1.0, 1.0)
    values = _row(10.0, 20.0, 30.0)
    out = bootstrap_time_outs(rewards, values, torch.tensor([[False, True, False]]), gamma=0.5)
    torch.testing.assert_close(out, _row(1.0, 11.0, 1.0))
    assert math.isclose(float(out.sum()), 13.0)
