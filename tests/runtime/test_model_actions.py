"""Action spaces, distributions and masking: layouts, log-probs, entropies, KLs, env conversion."""

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Normal, kl_divergence

from sf_runtime.model import action_layout, action_mask_size, actions_to_env, make_action_distribution

D, MD, BOX = gym.spaces.Discrete(3), gym.spaces.MultiDiscrete([2, 4]), gym.spaces.Box(-1.0, 1.0, (2, 2))
TUP = gym.spaces.Tuple((gym.spaces.Discrete(2, start=5), gym.spaces.Box(-2.0, 2.0, (3,)), MD))


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        (D, ((), torch.int64, 3)),
        (MD, ((2,), torch.int64, 6)),
        (BOX, ((4,), torch.float32, 8)),
        (TUP, ((6,), torch.float32, 2 + 6 + 6)),
        (gym.spaces.Tuple((D, MD)), ((3,), torch.int64, 9)),
    ],
)
def test_action_layout(space, expected):
    assert action_layout(space) == expected


def test_unsupported_action_space_is_rejected_by_name():
    with pytest.raises(TypeError, match=r"MultiBinary.*Discrete, MultiDiscrete, Box"):
        action_layout(gym.spaces.MultiBinary(3))


def test_categorical_matches_torch_distributions():
    torch.manual_seed(0)
    logits, other = torch.randn(5, 3), torch.randn(5, 3)
    ours, ref = make_action_distribution(D, logits), Categorical(logits=logits)
    actions = torch.tensor([0, 1, 2, 1, 0])
    torch.testing.assert_close(ours.log_prob(actions), ref.log_prob(actions))
    torch.testing.assert_close(ours.entropy(), ref.entropy())
    torch.testing.assert_close(
        ours.kl_divergence(make_action_distribution(D, other)), kl_divergence(ref, Categorical(logits=other))
    )
    assert torch.equal(ours.mode(), logits.argmax(-1))


def test_symmetric_kl_with_uniform_by_hand():
    # p = [0.5, 0.25, 0.25], u = 1/3: KL(p||u) = sum p log(3p), KL(u||p) = sum (1/3) log(1/(3p))
    p = torch.tensor([[0.5, 0.25, 0.25]])
    expected = sum(pi * math.log(3 * pi) for pi in (0.5, 0.25, 0.25)) + sum(
        math.log(1 / (3 * pi)) / 3 for pi in (0.5, 0.25, 0.25)
    )
    got = make_action_distribution(D, p.log()).symmetric_kl_with_uniform()
    assert math.isclose(float(got), expected, rel_tol=1e-5)
    # zero for the uniform policy itself
    assert abs(float(make_action_distribution(D, torch.zeros(1, 3)).symmetric_kl_with_uniform())) < 1e-6


def test_gaussian_matches_torch_normal_on_flattened_box():
    torch.manual_seed(1)
    logits, other = torch.randn(4, 8), torch.randn(4, 8)
    ours = make_action_distribution(BOX, logits)
    ref = Normal(logits[:, :4], logits[:, 4:].exp())
    ref_other = Normal(other[:, :4], other[:, 4:].exp())
    actions = torch.randn(4, 4)
    torch.testing.assert_close(ours.log_prob(actions), ref.log_prob(actions).sum(-1))
    torch.testing.assert_close(ours.entropy(), ref.entropy().sum(-1))
    torch.testing.assert_close(
        ours.kl_divergence(make_action_distribution(BOX, other)), kl_divergence(ref, ref_other).sum(-1)
    )
    assert torch.equal(ours.mode(), logits[:, :4])


def test_multi_discrete_and_tuple_factorize():
    torch.manual_seed(2)
    logits = torch.randn(3, 14)
    dist = make_action_distribution(TUP, logits)
    actions = dist.sample()
    assert actions.shape == (3, 6) and actions.dtype == torch.float32
    c0 = Categorical(logits=logits[:, :2])
    g = Normal(logits[:, 2:5], logits[:, 5:8].exp())
    c1, c2 = Categorical(logits=logits[:, 8:10]), Categorical(logits=logits[:, 10:14])
    expected = (
        c0.log_prob(actions[:, 0].long())
        + g.log_prob(actions[:, 1:4]).sum(-1)
        + c1.log_prob(actions[:, 4].long())
        + c2.log_prob(actions[:, 5].long())
    )
    torch.testing.assert_close(dist.log_prob(actions), expected)
    torch.testing.assert_close(dist.entropy(), c0.entropy() + g.entropy().sum(-1) + c1.entropy() + c2.entropy())


def test_action_mask_gives_invalid_actions_zero_probability():
    torch.manual_seed(3)
    logits = torch.randn(200, 3)
    mask = torch.tensor([[1, 0, 1]]).expand(200, 3)
    dist = make_action_distribution(D, logits, mask)
    assert not bool((dist.sample() == 1).any())
    assert torch.all(dist.probs[:, 1] == 0)
    # the valid actions keep their relative odds
    torch.testing.assert_close(dist.probs[:, 0] / dist.probs[:, 2], (logits[:, 0] - logits[:, 2]).exp())
    assert torch.isfinite(dist.entropy()).all()
    assert torch.isfinite(dist.kl_divergence(make_action_distribution(D, torch.randn(200, 3), mask))).all()
    # uniform over the two valid actions: symmetric KL to the (masked) uniform prior is zero
    uniform = make_action_distribution(D, torch.zeros(1, 3), torch.tensor([[1, 0, 1]]))
    assert abs(float(uniform.symmetric_kl_with_uniform())) < 1e-6


def test_action_mask_splits_across_discrete_parts_of_a_tuple():
    assert action_mask_size(TUP) == 2 + 6
    mask = torch.tensor([[0, 1, 1, 0, 0, 0, 0, 1]], dtype=torch.bool).expand(50, 8)
    dist = make_action_distribution(TUP, torch.randn(50, 14), mask)
    a = dist.sample()
    assert torch.all(a[:, 0] == 1) and torch.all(a[:, 4] == 0) and torch.all(a[:, 5] == 3)


def test_actions_to_env_converts_to_each_space_format():
    assert actions_to_env(torch.tensor([2, 0]), gym.spaces.Discrete(3, start=-1)).tolist() == [1, -1]
    md = actions_to_env(np.array([[1, 3]]), gym.spaces.MultiDiscrete([2, 4], start=[1, 1]))
    assert md.tolist() == [[2, 4]]
    box = actions_to_env(np.array([[0.5, -3.0, 9.0, 0.0]], dtype=np.float32), BOX)
    assert box.shape == (1, 2, 2) and box.dtype == np.float32
    assert box.reshape(-1).tolist() == [0.5, -1.0, 1.0, 0.0]  # clipped to the bounds
    parts = actions_to_env(np.array([[1, 0.1, 0.2, 3.0, 1, 2]], dtype=np.float32), TUP)
    assert isinstance(parts, tuple) and len(parts) == 3
    assert parts[0].tolist() == [6]
    np.testing.assert_allclose(parts[1], [[0.1, 0.2, 2.0]])
    assert parts[2].tolist() == [[1, 2]]
    for env_action, space in zip(parts, TUP.spaces, strict=True):
        assert space.contains(env_action[0].astype(space.dtype) if hasattr(env_action[0], "astype") else env_action[0])


def test_categorical_samples_follow_the_probabilities():
    torch.manual_seed(4)
    probs = torch.tensor([0.1, 0.6, 0.3, 0.0])
    dist = make_action_distribution(gym.spaces.Discrete(4), probs.log().expand(20000, 4))
    freq = torch.bincount(dist.sample(), minlength=4).float() / 20000
    torch.testing.assert_close(freq, probs, atol=0.015, rtol=0)  # ~4.5 standard errors
    assert freq[3] == 0
