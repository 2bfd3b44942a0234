"""Each APPO loss term against hand-computed values, and the total loss against the sum of its terms."""

import math

import pytest
import torch

from sf_runtime.algo import LossCoefficients, appo_loss, clipped_ratio, policy_loss, value_loss
from sf_runtime.model.action_distributions import CategoricalDistribution


def test_clipped_ratio_is_symmetric_in_log_space():
    ratio = torch.tensor([2.0, 0.5, 1.05, 0.95, 1.0])
    expected = torch.tensor([1.1, 1.0 / 1.1, 1.05, 0.95, 1.0])
    torch.testing.assert_close(clipped_ratio(ratio, 0.1), expected)
    # log(1 + eps) and log(1 / (1 + eps)) are opposite
    bounds = clipped_ratio(torch.tensor([100.0, 0.01]), 0.1).log()
    torch.testing.assert_close(bounds[0], -bounds[1])


def test_policy_loss_takes_the_pessimistic_surrogate():
    ratio = torch.tensor([1.5, 1.5, 0.5, 0.5, 1.02])
    adv = torch.tensor([2.0, -2.0, 2.0, -2.0, 1.0])
    # A>0, r=1.5: min(3.0, 1.1*2) = 2.2           A<0, r=1.5: min(-3.0, -2.2) = -3.0
    # A>0, r=0.5: min(1.0, 2/1.1=1.818) = 1.0     A<0, r=0.5: min(-1.0, -1.818) = -1.818
    # inside the clip range the surrogate is r*A = 1.02
    expected = -torch.tensor([2.2, -3.0, 1.0, -2.0 / 1.1, 1.02])
    torch.testing.assert_close(policy_loss(ratio, adv, 0.1), expected)


def test_value_loss_takes_the_larger_of_clipped_and_unclipped_errors():
    values = torch.tensor([3.0, 0.2, -1.0])
    old = torch.tensor([0.0, 0.0, 0.0])
    targets = torch.tensor([0.0, 1.0, -2.0])
    # v=3: clipped to 1 -> max(9, 1) = 9; v=0.2 within clip -> (0.8)^2 both; v=-1: clipped -1 same -> 1
    torch.testing.assert_close(value_loss(values, old, targets, 1.0), torch.tensor([9.0, 0.64, 1.0]))
    # the clipped error wins when the new value jumps past the target: V_clip = -2 + 1 = -1, (-1 - 1.5)^2 = 6.25
    # against the unclipped (2 - 1.5)^2 = 0.25
    torch.testing.assert_close(
        value_loss(torch.tensor([2.0]), torch.tensor([-2.0]), torch.tensor([1.5]), 1.0), torch.tensor([6.25])
    )


def _coeffs(**kw):
    base = dict(
        clip_ratio=0.1,
        clip_value=1.0,
        value_loss_coeff=0.5,
        exploration_loss_coeff=0.01,
        exploration_loss="entropy",
        kl_loss_coeff=0.2,
    )
    base.update(kw)
    return LossCoefficients(**base)


def _setup():
    torch.manual_seed(0)
    logits = torch.randn(6, 3, requires_grad=True)
    old_logits = torch.randn(6, 3)
    actions = torch.tensor([0, 1, 2, 0, 1, 2])
    old_dist = CategoricalDistribution(old_logits)
    return logits, old_logits, actions, old_dist, old_dist.log_prob(actions)


@pytest.mark.parametrize("exploration", ["entropy", "symmetric_kl"])
def test_appo_loss_is_the_sum_of_its_hand_computed_terms(exploration):
    logits, old_logits, actions, old_dist, old_logp = _setup()
    adv = torch.tensor([1.0, -1.0, 0.5, 2.0, -0.3, 0.0])
    values = torch.tensor([0.1, 0.5, 2.0, -1.0, 0.0, 0.3])
    old_values = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    targets = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.5, 0.3])
    mask = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0, 1.0])
    coeffs = _coeffs(exploration_loss=exploration)
    dist = CategoricalDistribution(logits)
    loss, terms = appo_loss(dist, old_dist, actions, old_logp, adv, values, old_values, targets, mask, coeffs)

    valid = mask.bool()
    p_new = torch.softmax(logits.detach(), -1)
    p_old = torch.softmax(old_logits, -1)
    ratio = p_new[torch.arange(6), actions] / p_old[torch.arange(6), actions]
    surrogate = torch.min(ratio * adv, ratio.clamp(1 / 1.1, 1.1) * adv)
    expected_policy = -surrogate[valid].mean()
    v_clip = old_values + (values - old_values).clamp(-1, 1)
    expected_value = 0.5 * torch.max((values - targets) ** 2, (v_clip - targets) ** 2)[valid].mean()
    entropy = -(p_new * p_new.log()).sum(-1)
    if exploration == "entropy":
        expected_exploration = -0.01 * entropy[valid].mean()
    else:
        u = torch.full_like(p_new, 1 / 3)
        sym = (p_new * (p_new / u).log()).sum(-1) + (u * (u / p_new).log()).sum(-1)
        expected_exploration = 0.01 * sym[valid].mean()
    kl = (p_old * (p_old / p_new).log()).sum(-1)
    expected_kl = 0.2 * kl[valid].mean()

    torch.testing.assert_close(terms["policy_loss"], expected_policy)
    torch.testing.assert_close(terms["value_loss"], expected_value)
    torch.testing.assert_close(terms["exploration_loss"], expected_exploration)
    torch.testing.assert_close(terms["kl_loss"], expected_kl)
    torch.testing.assert_close(terms["entropy"], entropy[valid].mean())
    torch.testing.assert_close(loss.detach(), expected_policy + expected_value + expected_exploration + expected_kl)


def test_masked_samples_do_not_contribute_to_loss_or_gradient():
    logits, _, actions, old_dist, old_logp = _setup()
    mask = torch.tensor([1.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    args = (torch.ones(6), torch.zeros(6), torch.zeros(6), torch.ones(6), mask, _coeffs())
    loss, _ = appo_loss(CategoricalDistribution(logits), old_dist, actions, old_logp, *args)
    loss.backward()
    assert torch.all(logits.grad[2] == 0)
    assert torch.any(logits.grad[0] != 0)

    # changing everything about the masked sample leaves the loss unchanged
    adv2 = torch.ones(6)
    adv2[2] = 1e6
    loss2, _ = appo_loss(CategoricalDistribution(logits.detach()), old_dist, actions, old_logp, adv2, *args[1:])
    assert math.isclose(float(loss.detach()), float(loss2), rel_tol=1e-6)


def test_all_samples_masked_gives_zero_loss():
    logits, _, actions, old_dist, old_logp = _setup()
    loss, terms = appo_loss(
        CategoricalDistribution(logits),
        old_dist,
        actions,
        old_logp,
        torch.ones(6),
        torch.ones(6),
        torch.zeros(6),
        torch.zeros(6),
        torch.zeros(6),
        _coeffs(),
    )
    assert float(loss.detach()) == 0.0
    assert float(terms["clip_fraction"]) == 0.0


def test_loss_coefficients_reject_unknown_exploration_loss():
    class Cfg:
        ppo_clip_ratio = 0.1
        ppo_clip_value = 1.0
        value_loss_coeff = 0.5
        exploration_loss_coeff = 0.0
        exploration_loss = "curiosity"
        kl_loss_coeff = 0.0

    with pytest.raises(ValueError, match=r"curiosity.*entropy.*symmetric_kl"):
        LossCoefficients.from_cfg(Cfg())
