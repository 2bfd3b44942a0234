"""Action spaces, distributions and masking: layouts, log-probs, entropies, KLs, env conversion."""

import math
import pickle

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Normal, kl_divergence

from sf_runtime import Discretized
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


# ---- Discretized: a Discrete space whose indices stand for values of a continuous range --------------------------


def test_discretized_is_a_categorical_component_alone_and_in_a_tuple():
    turn = Discretized(5, min_action=-2.0, max_action=2.0)
    assert action_layout(turn) == ((), torch.int64, 5)
    assert action_layout(gym.spaces.Tuple((gym.spaces.Discrete(2), turn))) == ((2,), torch.int64, 7)
    parts = actions_to_env(torch.tensor([[1, 4], [0, 0]]), gym.spaces.Tuple((gym.spaces.Discrete(2), turn)))
    assert parts[1].tolist() == [4, 0]  # the env gets the index ...
    assert turn.to_continuous(parts[1]).tolist() == [2.0, -2.0]  # ... and turns it into its value


def test_discretized_values_and_errors():
    turn = Discretized(11, min_action=-10.0, max_action=10.0)
    assert [turn.to_continuous(i) for i in (0, 5, 10)] == [-10.0, 0.0, 10.0]
    assert turn.to_continuous(np.int64(7)) == 4.0 and turn.step_size == 2.0
    assert turn.contains(3) and not turn.contains(11)
    with pytest.raises(ValueError, match=r"integer actions 0\.\.10, got 11"):
        turn.to_continuous(11)
    with pytest.raises(ValueError, match=r"integer actions 0\.\.10, got 1\.5"):
        turn.to_continuous(1.5)
    with pytest.raises(ValueError, match=r"n, the number of values, to be an integer >= 2, got 1"):
        Discretized(1, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"min_action < max_action, got min_action=1.0, max_action=1.0"):
        Discretized(3, 1.0, 1.0)
    with pytest.raises(ValueError, match=r"max_action to be a finite real number, got inf"):
        Discretized(3, 0.0, float("inf"))
    clone = pickle.loads(pickle.dumps(turn))
    assert clone == turn and isinstance(clone, Discretized) and clone.to_continuous(10) == 10.0
    assert turn != Discretized(11, -10.0, 9.0) and turn != gym.spaces.Discrete(11)
    assert repr(turn) == "Discretized(11, min_action=-10.0, max_action=10.0)"


class SteerEnv(gym.Env):
    """Tuple(Discrete(2) 'go', Discretized(5) 'steer'): the env converts the steer index to its value itself, as
    Sample Factory 2's Doom env does, and rewards steering close to +1."""

    received: list = []  # (go, steer index, steer value) of every step, in this process

    def __init__(self):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
        self.action_space = gym.spaces.Tuple((gym.spaces.Discrete(2), Discretized(5, min_action=-2.0, max_action=2.0)))
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(3, np.float32), {}

    def step(self, action):
        go, steer_index = action
        steer = self.action_space.spaces[1].to_continuous(steer_index)
        SteerEnv.received.append((go, steer_index, steer))
        self.t += 1
        return np.full(3, steer / 2, np.float32), -abs(steer - 1.0), False, self.t >= 20, {}


def make_steer_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    return SteerEnv()


def test_a_tuple_with_a_discretized_part_trains_and_the_env_gets_indices_it_turns_into_values(tmp_path):
    from sf_config import make_cfg
    from sf_registry import register_env
    from sf_runtime import RunObserver, run_rl

    class CountSteps(RunObserver):
        steps = 0

        def on_training_step(self, run, policy_id):
            CountSteps.steps = run.training_steps

    register_env("test_discretized_steer", make_steer_env)
    SteerEnv.received.clear()
    cfg = make_cfg(
        env="test_discretized_steer",
        experiment="steer",
        train_dir=str(tmp_path),
        serial_mode=True,
        device="cpu",
        num_workers=1,
        num_envs_per_worker=4,
        worker_num_splits=1,
        rollout=8,
        batch_size=32,
        num_batches_per_epoch=1,
        num_epochs=1,
        encoder_mlp_layers=[8],
        use_rnn=False,
        train_for_env_steps=96,
        seed=0,
    )
    assert run_rl(cfg, [CountSteps()]) == 0
    assert CountSteps.steps >= 2, "the learner trained on the Tuple(Discrete, Discretized) actions"
    assert len(SteerEnv.received) >= 96
    indices = {int(index) for _, index, _ in SteerEnv.received}
    values = {value for _, _, value in SteerEnv.received}
    assert all(isinstance(index, int | np.integer) for _, index, _ in SteerEnv.received)
    assert indices <= set(range(5)) and len(indices) > 1
    assert values <= {-2.0, -1.0, 0.0, 1.0, 2.0} and len(values) > 1  # continuous values on the space's grid
