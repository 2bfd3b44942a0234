"""Learning-rate schedules and the LAMB optimizer against hand-computed steps."""

import copy
import math
import subprocess
import sys
import types

import pytest
import torch

from sf_config import make_cfg
from sf_runtime.algo import Adam, Lamb, LearningRateSchedule, kl_adaptive_lr, make_optimizer


def test_kl_adaptive_rule():
    # threshold 0.01: above 0.02 divide by 1.5, below 0.005 multiply by 1.5, otherwise keep
    assert math.isclose(kl_adaptive_lr(0.003, 0.05, 0.01, 1e-6, 1e-2), 0.002)
    assert math.isclose(kl_adaptive_lr(0.002, 0.001, 0.01, 1e-6, 1e-2), 0.003)
    assert kl_adaptive_lr(0.002, 0.01, 0.01, 1e-6, 1e-2) == 0.002
    # bounds
    assert kl_adaptive_lr(1e-6, 1.0, 0.01, 1e-6, 1e-2) == 1e-6
    assert kl_adaptive_lr(0.009, 0.0, 0.01, 1e-6, 1e-2) == 1e-2


def test_kl_adaptive_minibatch_reacts_per_minibatch_only():
    sched = LearningRateSchedule(make_cfg(lr_schedule="kl_adaptive_minibatch", learning_rate=1e-3))
    assert math.isclose(sched.after_minibatch(1.0), 1e-3 / 1.5)
    assert math.isclose(sched.after_minibatch(1.0), 1e-3 / 1.5**2)
    assert math.isclose(sched.after_epoch(0.0), 1e-3 / 1.5**2)  # epoch hook does nothing for this schedule


def test_kl_adaptive_epoch_reacts_per_epoch_only():
    sched = LearningRateSchedule(make_cfg(lr_schedule="kl_adaptive_epoch", learning_rate=1e-3))
    assert sched.after_minibatch(1.0) == 1e-3
    assert math.isclose(sched.after_epoch(0.0), 1.5e-3)


def test_linear_decay_follows_env_steps():
    sched = LearningRateSchedule(make_cfg(lr_schedule="linear_decay", learning_rate=1e-3, train_for_env_steps=1000))
    assert math.isclose(sched.before_batch(0), 1e-3)
    assert math.isclose(sched.before_batch(250), 0.75e-3)
    assert sched.before_batch(5000) == 0.0


def test_constant_schedule_never_changes():
    sched = LearningRateSchedule(make_cfg(lr_schedule="constant", learning_rate=3e-4))
    sched.before_batch(10**9)
    sched.after_minibatch(100.0)
    sched.after_epoch(0.0)
    assert sched.lr == 3e-4


def test_adaptive_lr_survives_state_dict_round_trip():
    cfg = make_cfg(lr_schedule="kl_adaptive_epoch", learning_rate=1e-3)
    sched = LearningRateSchedule(cfg)
    sched.after_epoch(0.0)
    restored = LearningRateSchedule(cfg)
    restored.load_state_dict(sched.state_dict())
    assert math.isclose(restored.lr, 1.5e-3)


def test_lamb_first_step_matches_hand_computation():
    # t=1: m_hat = g, v_hat = g^2, so u = g / |g| = [1, 1] (eps=0); trust ratio = ||w|| / ||u|| = 5 / sqrt(2)
    w = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
    opt = Lamb([w], lr=0.1, betas=(0.9, 0.999), eps=0.0)
    w.grad = torch.tensor([1.0, 2.0])
    opt.step()
    step = 0.1 * 5.0 / math.sqrt(2.0)
    torch.testing.assert_close(w.detach(), torch.tensor([3.0 - step, 4.0 - step]))


def test_lamb_uses_unit_trust_ratio_for_zero_weights():
    w = torch.nn.Parameter(torch.zeros(2))
    opt = Lamb([w], lr=0.5, eps=0.0)
    w.grad = torch.tensor([-3.0, 2.0])
    opt.step()
    torch.testing.assert_close(w.detach(), torch.tensor([0.5, -0.5]))


def _regression_problem(seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(64, 5, generator=g), torch.randn(64, 2, generator=g)


def test_adam_matches_torch_optim_adam():
    x, y = _regression_problem(0)
    torch.manual_seed(0)
    ours_model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    ref_model = copy.deepcopy(ours_model)
    ours = Adam(ours_model.parameters(), lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    ref = torch.optim.Adam(ref_model.parameters(), lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    for _ in range(20):
        for model, opt in ((ours_model, ours), (ref_model, ref)):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
    for a, b in zip(ours_model.parameters(), ref_model.parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("cls", [Adam, Lamb])
def test_optimizer_state_round_trips_through_weights_only_files(tmp_path, cls):
    x, y = _regression_problem(1)
    torch.manual_seed(1)
    model = torch.nn.Linear(5, 2)
    opt = cls(model.parameters(), lr=0.05)
    twin = copy.deepcopy(model)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    torch.save(opt.state_dict(), tmp_path / "opt.pt")
    twin.load_state_dict(model.state_dict())
    twin_opt = cls(twin.parameters(), lr=1.0)
    twin_opt.load_state_dict(torch.load(tmp_path / "opt.pt", weights_only=True))
    assert twin_opt.param_groups[0]["lr"] == 0.05
    for m, o in ((model, opt), (twin, twin_opt)):
        o.zero_grad()
        torch.nn.functional.mse_loss(m(x), y).backward()
        o.step()
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="different set of parameters"):
        cls(torch.nn.Linear(5, 2).parameters()).load_state_dict({"state": {}, "param_groups": []})


def test_building_a_learner_does_not_import_torch_dynamo():
    # torch.optim optimizers import torch._dynamo on first use (seconds per process); ours must not
    code = (
        "import sys, gymnasium as gym\n"
        "from sf_config import make_cfg\n"
        "from sf_runtime.learning import Learner\n"
        "cfg = make_cfg(use_rnn=False, encoder_mlp_layers=[8])\n"
        "Learner(cfg, gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2))\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.strip() == "False"


def test_make_optimizer_reads_cfg():
    params = [torch.nn.Parameter(torch.zeros(3))]
    adam = make_optimizer(make_cfg(optimizer="adam", learning_rate=0.01, adam_eps=1e-8, adam_beta1=0.8), params)
    assert isinstance(adam, Adam)
    assert adam.param_groups[0]["lr"] == 0.01 and adam.param_groups[0]["betas"][0] == 0.8
    assert isinstance(make_optimizer(make_cfg(optimizer="lamb"), params), Lamb)


def test_unknown_names_are_rejected_with_the_accepted_ones():
    # sf_config already rejects these on assignment; the runtime checks too, for cfgs built by other means
    cfg = types.SimpleNamespace(**dict(make_cfg()))
    cfg.optimizer = "sgd"
    with pytest.raises(ValueError, match=r"sgd.*adam.*lamb"):
        make_optimizer(cfg, [torch.nn.Parameter(torch.zeros(1))])
    cfg.lr_schedule = "cosine"
    with pytest.raises(ValueError, match=r"cosine.*linear_decay"):
        LearningRateSchedule(cfg)
