"""torch_compile: the encoder and heads of the learner's (and inference's) model compiled; bad settings refused."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

from sf_config import ConfigError, make_cfg
from sf_runtime.learning import Learner
from sf_runtime.model.compile import compile_actor_critic, compiles_in

OBS_SPACE = gym.spaces.Dict({"obs": gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)})
ACTION_SPACE = gym.spaces.Discrete(2)


def _cfg(**kw):
    base = dict(env="CartPole-v1", experiment="compile_test", use_rnn=False, encoder_mlp_layers=[32, 32], rollout=8)
    return make_cfg(**{**base, **kw})


def _batch(b: int, t: int) -> dict:
    g = torch.Generator().manual_seed(0)
    return {
        "obs": {"obs": torch.randn(b, t + 1, 4, generator=g)},
        "rnn_states": torch.zeros(b, t + 1, 1),
        "actions": torch.randint(0, 2, (b, t), generator=g),
        "log_prob_actions": torch.full((b, t), math.log(0.5)),
        "action_logits": torch.zeros(b, t, 2),
        "values": torch.zeros(b, t + 1),
        "rewards": torch.rand(b, t, generator=g),
        "dones": torch.rand(b, t, generator=g) < 0.1,
        "time_outs": torch.zeros(b, t, dtype=torch.bool),
        "policy_version": torch.zeros(b, t, dtype=torch.int64),
        "valids": torch.ones(b, t, dtype=torch.bool),
    }


def test_which_roles_each_setting_compiles():
    assert [compiles_in(s, "learner") for s in ("off", "learner", "inference", "both")] == [False, True, False, True]
    assert [compiles_in(s, "inference") for s in ("off", "learner", "inference", "both")] == [False, False, True, True]
    with pytest.raises(ValueError, match="torch_compile='fast'"):
        compiles_in("fast", "learner")


def test_bad_settings_are_refused_before_start():
    with pytest.raises(ConfigError, match="torch_compile"):
        _cfg(torch_compile="fast")
    with pytest.raises(ConfigError, match="serial_mode=True: in serial mode the learner and the rollouts share"):
        _cfg(torch_compile="learner", serial_mode=True)
    assert _cfg(torch_compile="both", serial_mode=True).torch_compile == "both"


def test_without_a_cpp_compiler_the_cpu_compile_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no compiler to be found
    monkeypatch.delenv("CXX", raising=False)
    with pytest.raises(ConfigError, match="needs a C\\+\\+ compiler"):
        _cfg(torch_compile="learner", device="cpu")


def test_compiling_keeps_the_parameters_and_checkpoint_keys():
    plain = Learner(_cfg(), OBS_SPACE, ACTION_SPACE)
    compiled = Learner(_cfg(torch_compile="learner"), OBS_SPACE, ACTION_SPACE)
    assert compiled.actor_critic.forward_head is not type(compiled.actor_critic).forward_head
    assert set(compiled.checkpoint_state()["model"]) == set(plain.checkpoint_state()["model"])
    assert "forward_head" not in vars(plain.actor_critic)  # off leaves the model as it is


@pytest.mark.slow
def test_a_compiled_learner_trains_like_the_eager_one():
    """Same seed, same batch: compiled and eager training give the same statistics (within float tolerance)."""
    torch.set_num_threads(1)
    stats = []
    for setting in ("off", "learner"):
        torch.manual_seed(0)
        learner = Learner(_cfg(torch_compile=setting, batch_size=64, num_batches_per_epoch=2), OBS_SPACE, ACTION_SPACE)
        batch = _batch(16, 8)
        stats.append([learner.train(batch) for _ in range(3)][-1])
    eager, compiled = stats
    for key in ("loss", "value_loss", "entropy", "kl_divergence"):
        assert compiled[key] == pytest.approx(eager[key], rel=1e-3, abs=1e-5), key


def test_compile_on_cuda_without_triton_is_a_clear_error(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "triton" else real(name, *a))
    learner = Learner(_cfg(), OBS_SPACE, ACTION_SPACE)
    with pytest.raises(RuntimeError, match="needs triton"):
        compile_actor_critic(learner.actor_critic, torch.device("cuda"))
