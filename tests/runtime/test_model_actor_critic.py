"""The actor-critic: shapes for every component choice, chunked evaluation, heads, init, and the model factory."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from sf_config import make_cfg
from sf_runtime.model import (
    ActorCritic,
    Decoder,
    Encoder,
    ModelCore,
    action_layout,
    calc_num_elements,
    create_actor_critic,
    global_model_factory,
)

OBS = gym.spaces.Dict({"vec": gym.spaces.Box(-1, 1, (5,)), "img": gym.spaces.Box(0, 255, (3, 36, 36), np.uint8)})


def _cfg(**kw):
    base = dict(encoder_mlp_layers=[16], encoder_conv_mlp_layers=[16], rnn_size=8, decoder_mlp_layers=[12])
    base.update(kw)
    return make_cfg(**base)


def _obs(space, n, seed=0):
    space.seed(seed)
    return {k: torch.as_tensor(np.stack([space[k].sample() for _ in range(n)])) for k in space.spaces}


@pytest.fixture(autouse=True)
def _clean_factory():
    global_model_factory().reset()
    yield
    global_model_factory().reset()


@pytest.mark.parametrize("share", [True, False])
@pytest.mark.parametrize(("use_rnn", "rnn_type"), [(False, "gru"), (True, "gru"), (True, "lstm")])
def test_forward_shapes(share, use_rnn, rnn_type):
    cfg = _cfg(actor_critic_share_weights=share, use_rnn=use_rnn, rnn_type=rnn_type)
    action_space = gym.spaces.MultiDiscrete([3, 2])
    ac = create_actor_critic(cfg, OBS, action_space)
    per_core = 8 * (2 if rnn_type == "lstm" else 1)
    assert ac.rnn_state_size == (per_core * (1 if share else 2) if use_rnn else 1)
    out = ac(ac.normalize_obs(_obs(OBS, 4)), torch.zeros(4, ac.rnn_state_size))
    shape, dtype, num_logits = action_layout(action_space)
    assert out["actions"].shape == (4, *shape) and out["actions"].dtype == dtype
    assert out["action_logits"].shape == (4, num_logits)
    assert out["log_prob_actions"].shape == (4,) and out["values"].shape == (4,)
    assert out["new_rnn_states"].shape == (4, ac.rnn_state_size)
    values_only = ac(ac.normalize_obs(_obs(OBS, 4)), torch.zeros(4, ac.rnn_state_size), values_only=True)
    assert set(values_only) == {"values", "new_rnn_states"}


@pytest.mark.parametrize("share", [True, False])
def test_evaluate_chunks_equals_step_by_step_forward(share):
    torch.manual_seed(0)
    cfg = _cfg(actor_critic_share_weights=share, use_rnn=True, rnn_type="lstm")
    ac = create_actor_critic(cfg, OBS, gym.spaces.Discrete(4))
    c, r = 3, 5
    obs = ac.normalize_obs(_obs(OBS, c * r, seed=1))
    h0 = torch.randn(c, ac.rnn_state_size)
    dones = torch.zeros(c, r, dtype=torch.bool)
    dones[0, 1] = dones[2, 3] = True
    logits, values = ac.evaluate_chunks(obs, h0, dones)

    ref_logits, ref_values = [], []
    for i in range(c):
        h = h0[i : i + 1]
        for t in range(r):
            j = i * r + t
            out = ac({k: v[j : j + 1] for k, v in obs.items()}, h, sample_actions=False)
            ref_logits.append(out["action_logits"])
            ref_values.append(out["values"])
            h = torch.zeros_like(h) if dones[i, t] else out["new_rnn_states"]
    torch.testing.assert_close(logits, torch.cat(ref_logits), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(values, torch.cat(ref_values), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(
    ("arch", "shape"),
    [
        ("convnet_simple", (3, 64, 64)),
        ("convnet_atari", (4, 84, 84)),
        ("convnet_impala", (3, 64, 64)),
        ("resnet_impala", (3, 64, 64)),
    ],
)
def test_conv_encoders(arch, shape):
    space = gym.spaces.Dict({"obs": gym.spaces.Box(0, 255, shape, np.uint8)})
    cfg = _cfg(encoder_conv_architecture=arch, use_rnn=False, obs_scale=255.0)
    ac = create_actor_critic(cfg, space, gym.spaces.Discrete(3))
    assert ac.encoder.get_out_size() == 16
    out = ac(ac.normalize_obs(_obs(space, 2)), torch.zeros(2, 1))
    assert torch.isfinite(out["action_logits"]).all()
    if arch == "resnet_impala":
        assert any(isinstance(m, nn.MaxPool2d) for m in ac.modules())


def test_one_sub_encoder_per_observation_key_and_mask_not_encoded():
    space = gym.spaces.Dict({**OBS.spaces, "action_mask": gym.spaces.Box(0, 1, (4,))})
    ac = create_actor_critic(_cfg(use_rnn=False), space, gym.spaces.Discrete(4))
    assert sorted(ac.encoder.encoders.keys()) == ["img", "vec"]
    assert ac.encoder.get_out_size() == 32


def test_action_mask_from_observations_is_respected():
    space = gym.spaces.Dict({"obs": gym.spaces.Box(-1, 1, (3,)), "action_mask": gym.spaces.Box(0, 1, (4,))})
    ac = create_actor_critic(_cfg(use_rnn=False), space, gym.spaces.Discrete(4))
    obs = {"obs": torch.randn(300, 3), "action_mask": torch.tensor([[0.0, 1.0, 0.0, 1.0]]).expand(300, 4)}
    actions = ac(ac.normalize_obs(obs), torch.zeros(300, 1))["actions"]
    assert set(actions.tolist()) <= {1, 3}


def test_deterministic_actions_are_the_mode():
    ac = create_actor_critic(_cfg(use_rnn=False), OBS, gym.spaces.Box(-1, 1, (2,)))
    obs = ac.normalize_obs(_obs(OBS, 3))
    out = ac(obs, torch.zeros(3, 1), deterministic=True)
    torch.testing.assert_close(out["actions"], out["action_logits"][:, :2])


def test_continuous_head_options():
    box = gym.spaces.Box(-1, 1, (3,))
    fixed = create_actor_critic(_cfg(use_rnn=False, adaptive_stddev=False, initial_stddev=0.5), OBS, box)
    logits = fixed(fixed.normalize_obs(_obs(OBS, 6)), torch.zeros(6, 1))["action_logits"]
    torch.testing.assert_close(logits[:, 3:], torch.full((6, 3), float(np.log(0.5))))  # state-independent std
    assert fixed.action_parameterization.learned_log_std.requires_grad

    squashed = create_actor_critic(_cfg(use_rnn=False, continuous_tanh_scale=0.2, policy_init_gain=50.0), OBS, box)
    means = squashed(squashed.normalize_obs(_obs(OBS, 20)), torch.zeros(20, 1))["action_logits"][:, :3]
    assert float(means.detach().abs().max()) <= 0.2 + 1e-6


@pytest.mark.parametrize("init", ["orthogonal", "xavier_uniform", "torch_default"])
def test_policy_initialization(init):
    torch.manual_seed(0)
    cfg = _cfg(use_rnn=False, policy_initialization=init, policy_init_gain=2.0)
    ac = create_actor_critic(cfg, OBS, gym.spaces.Discrete(2))
    w = ac.critic_linear.weight  # [1, 12]
    if init == "orthogonal":
        torch.testing.assert_close((w @ w.T).squeeze(), torch.tensor(4.0))  # one row of norm = gain
    if init != "torch_default":
        assert torch.all(ac.critic_linear.bias == 0)


def test_nonlinearity_choice_is_used():
    ac = create_actor_critic(_cfg(use_rnn=False, nonlinearity="tanh"), OBS, gym.spaces.Discrete(2))
    assert any(isinstance(m, nn.Tanh) for m in ac.modules())
    assert not any(isinstance(m, nn.ELU) for m in ac.modules())


class _TinyEncoder(Encoder):
    def __init__(self, cfg, obs_space):
        super().__init__(cfg)
        self.net = nn.Linear(obs_space["vec"].shape[0], 7)

    def forward(self, obs_dict):
        return self.net(obs_dict["vec"])

    def get_out_size(self):
        return 7


def test_custom_encoder_through_the_factory():
    global_model_factory().register_encoder_factory(_TinyEncoder)
    ac = create_actor_critic(_cfg(use_rnn=True), OBS, gym.spaces.Discrete(2))
    assert isinstance(ac.encoder, _TinyEncoder)
    assert ac.core.rnn.input_size == 7
    out = ac(ac.normalize_obs(_obs(OBS, 2)), torch.zeros(2, ac.rnn_state_size))
    assert out["actions"].shape == (2,)
    assert calc_num_elements(ac.encoder.net, (5,)) == 7


def test_custom_actor_critic_through_the_factory():
    made = []

    def make(cfg, obs_space, action_space):
        from sf_runtime.model import ActorCriticSharedWeights

        model = ActorCriticSharedWeights(global_model_factory(), cfg, obs_space, action_space)
        made.append(model)
        return model

    global_model_factory().register_actor_critic_factory(make)
    assert create_actor_critic(_cfg(use_rnn=False), OBS, gym.spaces.Discrete(2)) is made[0]

    global_model_factory().register_actor_critic_factory(lambda cfg, o, a: nn.Linear(1, 1))
    with pytest.raises(TypeError, match=r"Linear.*ActorCritic"):
        create_actor_critic(_cfg(use_rnn=False), OBS, gym.spaces.Discrete(2))
    with pytest.raises(TypeError, match="callable"):
        global_model_factory().register_encoder_factory("not a function")


def test_plain_observation_space_is_wrapped_in_a_dict():
    ac = create_actor_critic(_cfg(use_rnn=False), gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2))
    assert isinstance(ac, ActorCritic) and list(ac.obs_space.spaces) == ["obs"]


def test_non_box_observation_is_rejected_with_a_pointer_to_custom_encoders():
    space = gym.spaces.Dict({"obs": gym.spaces.Discrete(5)})
    with pytest.raises(TypeError, match="register_encoder_factory"):
        create_actor_critic(_cfg(use_rnn=False), space, gym.spaces.Discrete(2))


class _LeakyIntegratorCore(ModelCore):
    """A custom recurrent core: h' = 0.5 h + tanh(W x); relies on the base class's step loop for chunks."""

    def __init__(self, cfg, input_size):
        super().__init__(cfg)
        self.linear = nn.Linear(input_size, 6)
        self.rnn_state_size = 6

    def forward(self, x, rnn_states):
        h = 0.5 * rnn_states + torch.tanh(self.linear(x))
        return h, h

    def get_out_size(self):
        return 6


class _DoublingDecoder(Decoder):
    def __init__(self, cfg, input_size):
        super().__init__(cfg)
        self.out_size = 2 * input_size

    def forward(self, x):
        return torch.cat([x, -x], dim=-1)

    def get_out_size(self):
        return self.out_size


def test_custom_core_and_decoder_through_the_factory():
    torch.manual_seed(5)
    global_model_factory().register_core_factory(_LeakyIntegratorCore)
    global_model_factory().register_decoder_factory(_DoublingDecoder)
    ac = create_actor_critic(_cfg(use_rnn=True), OBS, gym.spaces.Discrete(3))
    assert ac.rnn_state_size == 6 and ac.critic_linear.in_features == 12
    obs = ac.normalize_obs(_obs(OBS, 6, seed=2))
    dones = torch.tensor([[False, True, False], [False, False, False]])
    h0 = torch.randn(2, 6)
    _, values = ac.evaluate_chunks(obs, h0, dones)
    # by hand for chunk 0: the state after step 1 is reset, so step 2 starts from zeros
    h = 0.5 * h0[0:1] + torch.tanh(ac.core.linear(ac.encoder(obs_slice(obs, 0))))
    h = 0.5 * h + torch.tanh(ac.core.linear(ac.encoder(obs_slice(obs, 1))))
    h = torch.tanh(ac.core.linear(ac.encoder(obs_slice(obs, 2))))
    expected = ac.critic_linear(torch.cat([h, -h], dim=-1)).squeeze(-1)
    torch.testing.assert_close(values[2:3], expected)


def obs_slice(obs, i):
    return {k: v[i : i + 1] for k, v in obs.items()}
