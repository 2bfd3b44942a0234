"""Learner.train on batches collected from real CartPole-v1 runs with random actions."""

import math
import types

import gymnasium as gym
import numpy as np
import pytest
import torch

from sf_config import make_cfg
from sf_runtime.learning import Learner

OBS_SPACE = gym.spaces.Dict({"obs": gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)})
ACTION_SPACE = gym.spaces.Discrete(2)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def collect_random_batch(b, t, rnn_state_size=1, max_episode_steps=20, seed=0):
    """B CartPole-v1 envs stepped T times with uniformly random actions (the behaviour policy is uniform)."""
    rng = np.random.default_rng(seed)
    obs = np.zeros((b, t + 1, 4), np.float32)
    rewards = np.zeros((b, t), np.float32)
    dones = np.zeros((b, t), bool)
    time_outs = np.zeros((b, t), bool)
    actions = rng.integers(0, 2, (b, t))
    for i in range(b):
        env = gym.make("CartPole-v1", max_episode_steps=max_episode_steps)
        o, _ = env.reset(seed=seed * 1000 + i)
        for s in range(t):
            obs[i, s] = o
            o, r, terminated, truncated, _ = env.step(int(actions[i, s]))
            rewards[i, s], dones[i, s], time_outs[i, s] = r, terminated or truncated, truncated
            if terminated or truncated:
                o, _ = env.reset()
        obs[i, t] = o
        env.close()
    return {
        "obs": {"obs": torch.from_numpy(obs)},
        "rnn_states": torch.zeros(b, t + 1, rnn_state_size),
        "actions": torch.from_numpy(actions),
        "log_prob_actions": torch.full((b, t), math.log(0.5)),
        "action_logits": torch.zeros(b, t, 2),
        "values": torch.zeros(b, t + 1),
        "rewards": torch.from_numpy(rewards),
        "dones": torch.from_numpy(dones),
        "time_outs": torch.from_numpy(time_outs),
        "policy_version": torch.zeros(b, t, dtype=torch.int64),
        "valids": torch.ones(b, t, dtype=torch.bool),
    }


def _cfg(**kw):
    base = dict(env="CartPole-v1", experiment="learner_test", use_rnn=False, encoder_mlp_layers=[64, 64], rollout=32)
    base.update(kw)
    return make_cfg(**base)


def _params(learner):
    return [p.detach().clone() for p in learner.actor_critic.parameters()]


def _changed(before, learner):
    return any(not torch.equal(a, p.detach()) for a, p in zip(before, learner.actor_critic.parameters(), strict=True))


EXPECTED_STATS = {
    "loss", "policy_loss", "value_loss", "exploration_loss", "kl_loss", "entropy", "kl_divergence", "clip_fraction",
    "grad_norm", "lr", "policy_lag_min", "policy_lag_avg", "policy_lag_max", "valid_fraction", "adv_mean", "adv_std",
    "value", "policy_version", "returns_norm/mean", "returns_norm/std", "obs_norm/obs/mean", "obs_norm/obs/std",
}  # fmt: skip


def test_feed_forward_training_steps():
    torch.manual_seed(0)
    learner = Learner(_cfg(batch_size=256, num_batches_per_epoch=4, num_epochs=2), OBS_SPACE, ACTION_SPACE)
    batch = collect_random_batch(32, 32)
    before = _params(learner)
    stats = learner.train(batch)
    assert set(stats) >= EXPECTED_STATS
    assert all(isinstance(v, float) and math.isfinite(v) for v in stats.values())
    assert learner.policy_version == 8 and stats["num_minibatch_updates"] == 8
    assert _changed(before, learner)
    assert stats["valid_fraction"] == 1.0 and stats["policy_lag_max"] == 0.0
    assert float(learner.actor_critic.obs_normalizer.running_mean_std[0].count) == 32 * 32
    # the behaviour policy was uniform: an entropy close to log(2) at the start
    assert abs(stats["entropy"] - math.log(2)) < 0.05

    stats2 = learner.train(batch)
    assert learner.policy_version == 16 and stats2["policy_lag_min"] == 8.0


@pytest.mark.parametrize(("rnn_type", "share"), [("gru", True), ("lstm", True), ("gru", False)])
def test_recurrent_training_with_shuffled_chunks(rnn_type, share):
    torch.manual_seed(1)
    cfg = _cfg(use_rnn=True, rnn_type=rnn_type, rnn_size=16, rollout=16, recurrence=8, batch_size=128,
               num_batches_per_epoch=2, shuffle_minibatches=True, actor_critic_share_weights=share)  # fmt: skip
    learner = Learner(cfg, OBS_SPACE, ACTION_SPACE)
    batch = collect_random_batch(16, 16, rnn_state_size=learner.actor_critic.rnn_state_size)
    before = _params(learner)
    stats = learner.train(batch)
    assert learner.policy_version == 2 and math.isfinite(stats["loss"])
    assert _changed(before, learner)


def test_vtrace_training():
    torch.manual_seed(2)
    cfg = _cfg(with_vtrace=True, normalize_returns=False, rollout=16, recurrence=16, batch_size=128,
               num_batches_per_epoch=2, optimizer="lamb")  # fmt: skip
    learner = Learner(cfg, OBS_SPACE, ACTION_SPACE)
    before = _params(learner)
    stats = learner.train(collect_random_batch(16, 16))
    assert learner.policy_version == 2 and math.isfinite(stats["loss"]) and "adv_std" in stats
    assert _changed(before, learner)


def _train_once(batch, **cfg_kw):
    torch.manual_seed(3)
    learner = Learner(_cfg(**cfg_kw), OBS_SPACE, ACTION_SPACE)
    stats = learner.train(batch)
    return learner, stats


def test_samples_past_max_policy_lag_are_left_out_like_invalid_ones():
    batch = collect_random_batch(8, 32, seed=4)
    # the learner is at version 0; versions -10 mean a lag of 10 > max_policy_lag=5 for trajectories 0..3
    stale = {**batch, "policy_version": batch["policy_version"].clone()}
    stale["policy_version"][:4] = -10
    learner_lag, stats = _train_once(stale, max_policy_lag=5, batch_size=256)
    assert stats["valid_fraction"] == 0.5
    assert stats["policy_lag_max"] == 10.0 and stats["policy_lag_min"] == 0.0

    # the same update as marking those trajectories invalid ...
    invalid = {**batch, "valids": batch["valids"].clone()}
    invalid["valids"][:4] = False
    learner_invalid, _ = _train_once(invalid, max_policy_lag=5, batch_size=256)
    # ... and nothing about the left-out samples matters
    scrambled = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in stale.items()}
    scrambled["rewards"][:4] = 1000.0
    scrambled["actions"][:4] = 1 - scrambled["actions"][:4]
    scrambled["obs"] = {"obs": stale["obs"]["obs"].clone()}
    scrambled["obs"]["obs"][:4] *= 50
    learner_scrambled, _ = _train_once(scrambled, max_policy_lag=5, batch_size=256)
    for a, b, c in zip(
        learner_lag.actor_critic.state_dict().values(),
        learner_invalid.actor_critic.state_dict().values(),
        learner_scrambled.actor_critic.state_dict().values(),
        strict=True,
    ):
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(a, c)


def test_all_samples_too_old_leaves_the_weights_unchanged():
    batch = collect_random_batch(4, 32, seed=5)
    batch["policy_version"][:] = -100
    torch.manual_seed(0)
    learner = Learner(_cfg(max_policy_lag=10, batch_size=128), OBS_SPACE, ACTION_SPACE)
    before = _params(learner)
    stats = learner.train(batch)
    assert stats["valid_fraction"] == 0.0 and stats["loss"] == 0.0
    assert not _changed(before, learner)


def test_value_bootstrap_adds_discounted_value_on_time_outs():
    batch = collect_random_batch(8, 32, max_episode_steps=10, seed=6)
    batch["values"][:] = 2.0
    num_time_outs = int(batch["time_outs"].sum())
    assert num_time_outs > 0
    _, plain = _train_once(batch, normalize_returns=False, batch_size=256, reward_scale=0.5)
    _, boot = _train_once(batch, normalize_returns=False, batch_size=256, reward_scale=0.5, value_bootstrap=True)
    # reward_mean is of the scaled rewards; each time-out gains gamma * V(s_t) = 0.99 * 2
    assert math.isclose(plain["reward_mean"], 0.5, rel_tol=1e-6)
    assert math.isclose(boot["reward_mean"] - plain["reward_mean"], 0.99 * 2.0 * num_time_outs / 256, rel_tol=1e-5)


def test_reward_clip_applies_after_scaling():
    batch = collect_random_batch(4, 32, seed=7)
    _, stats = _train_once(batch, batch_size=128, reward_scale=3.0, reward_clip=2.0)
    assert math.isclose(stats["reward_mean"], 2.0)


@pytest.mark.parametrize("behaviour", ["current_policy", "far_policy"])
def test_kl_adaptive_schedule_moves_the_learning_rate(behaviour):
    batch = collect_random_batch(8, 32, seed=8)
    torch.manual_seed(3)
    cfg = _cfg(batch_size=64, num_batches_per_epoch=4, learning_rate=1e-4, lr_schedule="kl_adaptive_minibatch",
               normalize_input=False)  # fmt: skip
    learner = Learner(cfg, OBS_SPACE, ACTION_SPACE)
    if behaviour == "current_policy":
        # the batch looks produced by the current weights: tiny updates keep the KL far below the threshold
        with torch.no_grad():
            out = learner.actor_critic({"obs": batch["obs"]["obs"][:, :32].reshape(-1, 4)}, torch.zeros(256, 1))
        batch["action_logits"] = out["action_logits"].reshape(8, 32, 2)
        dist = learner.actor_critic.action_distribution(out["action_logits"])
        batch["log_prob_actions"] = dist.log_prob(batch["actions"].reshape(-1)).reshape(8, 32)
        expected = 1e-4 * 1.5**4  # the rate grows by 1.5 after each of the 4 minibatches
    else:
        batch["action_logits"][:] = torch.tensor([6.0, -6.0])  # KL(behaviour || current) is large
        expected = 1e-4 / 1.5**4
    stats = learner.train(batch)
    assert math.isclose(stats["lr"], expected, rel_tol=1e-6)
    last_used = expected / 1.5 if expected > 1e-4 else expected * 1.5  # the rate of the last step, before adapting
    assert learner.optimizer.param_groups[0]["lr"] == pytest.approx(last_used)


@pytest.mark.parametrize("optimizer", ["adam", "lamb"])
def test_checkpoint_state_loads_with_weights_only_and_resumes_identically(tmp_path, optimizer):
    batch = collect_random_batch(8, 32, seed=9)
    torch.manual_seed(0)
    cfg = _cfg(batch_size=256, lr_schedule="kl_adaptive_epoch", optimizer=optimizer)
    learner = Learner(cfg, OBS_SPACE, ACTION_SPACE)
    learner.train(batch)
    path = tmp_path / "ckpt.pt"
    torch.save(learner.checkpoint_state(), path)

    state = torch.load(path, weights_only=True)
    restored = Learner(cfg, OBS_SPACE, ACTION_SPACE)
    restored.load_checkpoint_state(state)
    assert restored.policy_version == learner.policy_version == 1
    assert restored.lr_schedule.lr == learner.lr_schedule.lr

    learner.train(batch)
    restored.train(batch)
    for key, value in learner.actor_critic.state_dict().items():
        torch.testing.assert_close(value, restored.actor_critic.state_dict()[key])


def test_bad_batches_are_rejected_with_clear_errors():
    cfg = _cfg(use_rnn=True, rnn_size=8, rollout=16, recurrence=16, batch_size=256)
    learner = Learner(cfg, OBS_SPACE, ACTION_SPACE)
    batch = collect_random_batch(4, 12, rnn_state_size=8)
    with pytest.raises(ValueError, match="multiple of recurrence"):
        learner.train(batch)
    del batch["valids"]
    with pytest.raises(KeyError, match="valids"):
        learner.train(batch)


def test_bad_settings_are_rejected_with_clear_errors():
    with pytest.raises(ValueError, match="symmetric_kl"):
        Learner(_cfg(exploration_loss="symmetric_kl"), OBS_SPACE, gym.spaces.Box(-1, 1, (2,)))
    # V-trace needs whole trajectories per chunk; a cfg built by other means than make_cfg may break that
    cfg = types.SimpleNamespace(**dict(_cfg(with_vtrace=True, normalize_returns=False, rollout=16, recurrence=16)))
    cfg.recurrence = 8
    learner = Learner(cfg, OBS_SPACE, ACTION_SPACE)
    with pytest.raises(ValueError, match=r"with_vtrace.*recurrence=8"):
        learner.train(collect_random_batch(2, 16))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_on_cuda():
    learner = Learner(_cfg(use_rnn=True, rnn_size=16, batch_size=256), OBS_SPACE, ACTION_SPACE, device="cuda")
    stats = learner.train(collect_random_batch(8, 32, rnn_state_size=16))
    assert math.isfinite(stats["loss"]) and learner.policy_version == 1


@pytest.mark.parametrize("shuffle", [False, True])
def test_minibatches_are_whole_chunks_covering_every_sample_once(shuffle):
    cfg = _cfg(use_rnn=True, rnn_size=8, rollout=16, recurrence=4, batch_size=64, num_batches_per_epoch=3,
               shuffle_minibatches=shuffle)  # fmt: skip
    learner = Learner(cfg, OBS_SPACE, ACTION_SPACE)
    num_chunks = 12 * 16 // 4
    minibatches = list(learner._minibatches(num_chunks, 4))
    assert len(minibatches) == 3
    seen = torch.cat([idx for _, idx in minibatches])
    assert sorted(seen.tolist()) == list(range(12 * 16))
    for chunk_ids, idx in minibatches:
        chunks = idx.reshape(-1, 4)
        assert torch.equal(chunks[:, 0], chunk_ids * 4)  # each chunk starts at a multiple of recurrence ...
        assert torch.all(chunks[:, 1:] - chunks[:, :-1] == 1)  # ... and holds consecutive steps
        assert torch.all(chunks[:, 0] // 16 == chunks[:, -1] // 16)  # ... of one trajectory


def test_return_normalizer_tracks_the_gae_returns_of_the_batch():
    from sf_runtime.algo import gae

    batch = collect_random_batch(8, 32, seed=10)
    torch.manual_seed(0)
    cfg = _cfg(batch_size=256, normalize_input=False, normalize_returns=True, reward_scale=0.1, gamma=0.9,
               gae_lambda=0.8)  # fmt: skip
    learner = Learner(cfg, OBS_SPACE, ACTION_SPACE)
    ac = learner.actor_critic
    with torch.no_grad():
        bootstrap = ac({"obs": batch["obs"]["obs"][:, 32]}, torch.zeros(8, 1), values_only=True)["values"]
        values = torch.cat([torch.zeros(8, 32), bootstrap.unsqueeze(1)], dim=1)
        values = ac.returns_normalizer.denormalize(values)  # statistics still neutral: about the identity
        expected = gae(batch["rewards"] * 0.1, values, batch["dones"].float(), 0.9, 0.8) + values[:, :32]
    stats = learner.train(batch)
    assert stats["returns_norm/count"] == 256
    assert math.isclose(stats["returns_norm/mean"], float(expected.mean()), rel_tol=1e-4)
    assert math.isclose(stats["returns_norm/std"], float(expected.std(unbiased=False)), rel_tol=1e-3)


@pytest.mark.parametrize("max_norm", [0.5, 1e6, math.inf])
def test_gradient_clipping_matches_torch(max_norm):
    from sf_runtime.learning.learner import _clip_grad_norm

    torch.manual_seed(0)
    a = [torch.nn.Parameter(torch.randn(3, 4)), torch.nn.Parameter(torch.randn(5))]
    b = [torch.nn.Parameter(p.detach().clone()) for p in a]
    for p, q in zip(a, b, strict=True):
        p.grad = torch.randn_like(p) * 3
        q.grad = p.grad.clone()
    ours = _clip_grad_norm(a, max_norm)
    ref = torch.nn.utils.clip_grad_norm_(b, max_norm)
    torch.testing.assert_close(ours, ref)
    for p, q in zip(a, b, strict=True):
        torch.testing.assert_close(p.grad, q.grad)


@pytest.mark.parametrize("normalize_input", [False, True])
def test_a_batch_of_the_current_policy_is_on_policy_for_the_learner(normalize_input):
    """Actions taken by the learner's own model (lag 0): its first minibatch sees the same policy, ratio 1, KL 0.

    The batch is normalized with the statistics the acting model had; the batch then updates them for the next one
    (normalizing with statistics that already include the batch would make every batch off-policy by the shift).
    """
    batch = collect_random_batch(8, 32, seed=3)
    batch["obs"]["obs"] = batch["obs"]["obs"] * 40.0 + 7.0  # far from the initial statistics (mean 0, std 1)
    learner = Learner(_cfg(normalize_input=normalize_input, batch_size=256, num_batches_per_epoch=1), OBS_SPACE,
                      ACTION_SPACE)  # fmt: skip
    model = learner.actor_critic
    model.eval()
    with torch.no_grad():
        out = model(model.normalize_obs({"obs": batch["obs"]["obs"].reshape(-1, 4)}), torch.zeros(8 * 33, 1))
    behaviour = {k: v.reshape(8, 33, *v.shape[1:]) for k, v in out.items()}
    batch["actions"] = behaviour["actions"][:, :32]
    batch["log_prob_actions"] = behaviour["log_prob_actions"][:, :32]
    batch["action_logits"] = behaviour["action_logits"][:, :32]
    batch["values"] = behaviour["values"]
    mean_before = float(model.obs_normalizer.running_mean_std[0].mean.mean()) if normalize_input else None

    stats = learner.train(batch)

    assert stats["ratio_mean"] == pytest.approx(1.0, abs=1e-5)
    assert stats["kl_divergence"] == pytest.approx(0.0, abs=1e-6)
    assert stats["clip_fraction"] == 0.0
    if normalize_input:  # the statistics did take the batch in, for the next one
        assert float(model.obs_normalizer.running_mean_std[0].mean.mean()) != pytest.approx(mean_before)
