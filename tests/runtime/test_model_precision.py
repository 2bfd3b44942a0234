"""encoder_precision: the encoder computes in bfloat16 under autocast; everything else stays float32."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from sf_config import ConfigError, make_cfg
from sf_runtime.learning import Learner
from sf_runtime.model import create_actor_critic
from sf_runtime.model.precision import apply_encoder_precision, computes_bfloat16_natively, resolve_encoder_precision

PIXELS = gym.spaces.Dict({"obs": gym.spaces.Box(0, 255, (3, 36, 64), np.uint8)})
ACTIONS = gym.spaces.Discrete(3)


def _cfg(**kw):
    base = dict(env="CartPole-v1", experiment="precision", encoder_conv_architecture="convnet_simple", rollout=8)
    return make_cfg(**{**base, **kw})


def _obs(n: int) -> dict[str, torch.Tensor]:
    return {"obs": torch.randint(0, 256, (n, 3, 36, 64), generator=torch.Generator().manual_seed(0)).float()}


def test_a_bfloat16_encoder_gives_float32_features_close_to_the_float32_ones():
    torch.manual_seed(0)
    plain = create_actor_critic(_cfg(), PIXELS, ACTIONS)
    bf16 = create_actor_critic(_cfg(encoder_precision="bfloat16"), PIXELS, ACTIONS)
    bf16.load_state_dict(plain.state_dict())
    obs = plain.normalize_obs(_obs(16))
    want, got = plain.forward_head(obs), bf16.forward_head(obs)
    assert got.dtype == torch.float32
    assert not torch.equal(got, want)  # it did compute in bfloat16
    assert torch.allclose(got, want, rtol=0.05, atol=0.05 * want.abs().max().item())
    assert all(p.dtype == torch.float32 for p in bf16.parameters())


def test_the_encoder_learns_in_bfloat16_and_checkpoints_load_across_settings():
    torch.manual_seed(0)
    learner = Learner(_cfg(encoder_precision="bfloat16", use_rnn=False), PIXELS, ACTIONS)
    model = learner.actor_critic
    out = model.forward_head(model.normalize_obs(_obs(8)))
    out.sum().backward()
    first_conv = next(p for name, p in model.named_parameters() if "encoder" in name and p.dim() == 4)
    assert first_conv.grad is not None and first_conv.grad.dtype == torch.float32
    assert first_conv.grad.abs().sum() > 0

    state = learner.checkpoint_state()
    plain = Learner(_cfg(use_rnn=False), PIXELS, ACTIONS)
    plain.load_checkpoint_state(state)  # same keys, same dtypes: nothing to convert
    for (name, a), b in zip(model.state_dict().items(), plain.actor_critic.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_float32_leaves_the_model_as_it_is_and_auto_follows_the_hardware():
    model = create_actor_critic(_cfg(), PIXELS, ACTIONS)
    assert "forward_head" not in vars(model)
    native = computes_bfloat16_natively("cpu")
    assert resolve_encoder_precision("auto", "cpu") == ("bfloat16" if native else "float32")
    assert resolve_encoder_precision("auto", "mps") == "float32"
    assert resolve_encoder_precision("bfloat16", "cpu") == "bfloat16"  # asked for: emulated where not native


def test_a_bad_setting_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match=r"encoder_precision.*'half'.*float32.*bfloat16.*auto"):
        _cfg(encoder_precision="half")
    with pytest.raises(ValueError, match=r"encoder_precision='fp16': expected one of \('float32', 'bfloat16'"):
        apply_encoder_precision(create_actor_critic(_cfg(), PIXELS, ACTIONS), "fp16")
