"""PBT's rules on real objects: ranking and replacement gaps, mutation factors and bounds, and a controller driving
real learners, a real lifecycle and real envs (``shaped_cartpole``) through the serial runner's target."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
import torch

from sf_config import ConfigError, make_cfg
from sf_runtime.envs import make_env_vector
from sf_runtime.learning import Learner
from sf_runtime.pbt import (
    HYPERPARAMETERS,
    PopulationBasedTraining,
    SerialPopulation,
    decide_replacement,
    load_policy_settings,
    mutate_hyperparameters,
    mutate_reward_shaping,
    num_to_replace,
    read_summary,
)
from sf_runtime.runners.lifecycle import ExperimentLifecycle

sys.path.insert(0, str(Path(__file__).parent))
import pbt_envs  # noqa: F401  (registers shaped_cartpole)

torch.set_num_threads(1)


def pbt_cfg(tmp_path=None, **overrides):
    base = dict(
        env="shaped_cartpole",
        device="cpu",
        with_pbt=True,
        num_policies=3,
        num_workers=1,
        num_envs_per_worker=6,
        worker_num_splits=1,
        use_rnn=False,
        encoder_mlp_layers=[16],
        rollout=8,
        batch_size=16,
        seed=3,
        pbt_start_mutation=100,
        pbt_period_env_steps=100,
    )
    if tmp_path is not None:
        base.update(train_dir=str(tmp_path), experiment="pbt_unit")
    base.update(overrides)
    return make_cfg(**base)


# ---- ranking and replacement ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "fraction", "expected"), [(3, 0.3, 1), (2, 0.3, 1), (10, 0.3, 3), (10, 0.9, 5), (4, 0.0, 0), (1, 0.5, 0)]
)
def test_how_many_are_replaced(n, fraction, expected):
    assert num_to_replace(n, fraction) == expected


@pytest.mark.parametrize(
    ("worst", "relative", "absolute", "replaced"),
    [
        (50.0, 0.1, 1.0, True),  # gap 50 > 10 (10% of 100) and > 1
        (95.0, 0.1, 1.0, False),  # gap 5 < 10: relative gap not exceeded
        (50.0, 0.1, 60.0, False),  # gap 50 < 60: absolute gap not exceeded
        (89.0, 0.1, 10.0, True),  # gap 11 > 10 and > 10
        (90.0, 0.1, 1.0, False),  # gap 10 is not more than 10
    ],
)
def test_the_worst_is_replaced_only_when_both_gaps_are_exceeded(worst, relative, absolute, replaced):
    cfg = pbt_cfg(pbt_replace_fraction=0.3, pbt_replace_reward_gap=relative, pbt_replace_reward_gap_absolute=absolute)
    decision = decide_replacement(2, {0: 95.0, 1: 100.0, 2: worst}, cfg, random.Random(0))
    assert decision.ranking[0] == 1 and decision.ranking[-1] == 2
    assert decision.source == 1  # the one best policy (k = 1 of 3)
    assert decision.replace is replaced
    assert decision.gap == pytest.approx(100.0 - worst)


def test_a_policy_outside_the_worst_is_never_replaced():
    cfg = pbt_cfg(pbt_replace_fraction=0.3)
    decision = decide_replacement(0, {0: -100.0, 1: 100.0, 2: -200.0}, cfg, random.Random(0))
    assert decision.ranking == (1, 0, 2)
    assert decision.source is None and not decision.replace


def test_the_copied_policy_is_drawn_from_the_best():
    cfg = pbt_cfg(num_policies=10, pbt_replace_fraction=0.3)
    objectives = {p: float(p) for p in range(10)}  # 9, 8, 7 are the best; 0, 1, 2 the worst
    rng = random.Random(1)
    sources = {decide_replacement(0, objectives, cfg, rng).source for _ in range(200)}
    assert sources == {9, 8, 7}
    assert decide_replacement(3, objectives, cfg, rng).source is None


# ---- mutation ------------------------------------------------------------------------------------------------------


def test_each_hyperparameter_mutates_by_a_factor_within_bounds():
    cfg = pbt_cfg(pbt_mutation_rate=1.0, pbt_perturb_min=1.2, pbt_perturb_max=1.4)
    values = {name: float(cfg[name]) for name in HYPERPARAMETERS}
    rng = random.Random(0)
    ups = downs = 0
    for _ in range(50):
        new, changes = mutate_hyperparameters(values, cfg, rng)
        assert set(changes) == set(HYPERPARAMETERS)  # rate 1: every one, and no gamma without pbt_optimize_gamma
        for name, (old, value) in changes.items():
            factor = value / old
            assert 1.2 - 1e-9 <= factor <= 1.4 + 1e-9 or 1 / 1.4 - 1e-9 <= factor <= 1 / 1.2 + 1e-9, (name, factor)
            ups += factor > 1
            downs += factor < 1
            assert new[name] == value
    assert ups > 50 and downs > 50  # up or down at even odds


def test_mutation_rate_is_a_probability_per_hyperparameter():
    values = {name: 1.0 for name in HYPERPARAMETERS}
    rng = random.Random(0)
    none = mutate_hyperparameters(values, pbt_cfg(pbt_mutation_rate=0.0), rng)
    assert none == (values, {})
    changed = sum(len(mutate_hyperparameters(values, pbt_cfg(pbt_mutation_rate=0.25), rng)[1]) for _ in range(400))
    assert 0.18 < changed / (400 * len(HYPERPARAMETERS)) < 0.32


def test_gamma_mutates_only_with_pbt_optimize_gamma_and_stays_below_one():
    rng = random.Random(0)
    values = {name: 0.1 for name in HYPERPARAMETERS} | {"gamma": 0.999}
    assert "gamma" not in mutate_hyperparameters(values, pbt_cfg(pbt_mutation_rate=1.0), rng)[1]
    cfg = pbt_cfg(pbt_mutation_rate=1.0, pbt_optimize_gamma=True, pbt_perturb_min=3.0, pbt_perturb_max=5.0)
    for _ in range(50):
        new, changes = mutate_hyperparameters(values, cfg, rng)
        assert "gamma" in changes and 0.99 < new["gamma"] < 1.0
        horizon_factor = (1 - new["gamma"]) / (1 - 0.999)
        assert horizon_factor >= 3.0 - 1e-6 or horizon_factor <= 1 / 3.0 + 1e-6 or new["gamma"] == 0.9999


def test_reward_shaping_numbers_mutate_in_nested_schemes():
    scheme = {"alive": 1.0, "weapons": {"pistol": 0.5, "enabled": True}, "name": "x"}
    new, changes = mutate_reward_shaping(scheme, pbt_cfg(pbt_mutation_rate=1.0), random.Random(0))
    assert set(changes) == {"alive", "weapons/pistol"}
    assert new["weapons"]["enabled"] is True and new["name"] == "x"
    assert new["alive"] != 1.0 and scheme["alive"] == 1.0  # the input is left alone


# ---- the controller on real learners, lifecycle and envs -----------------------------------------------------------


class _Run:
    """A real serial setting: an env vector, three learners, a lifecycle with a fresh experiment directory."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.env_vector = make_env_vector(cfg, 0, 0, 6, False)
        self.policy_of_agent = [agent % 3 for agent in range(6)]
        self.lifecycle = ExperimentLifecycle(cfg, range(3))
        self.lifecycle.start()
        space = self.env_vector
        self.learners = {p: Learner(cfg, space.observation_space, space.action_space, policy_id=p) for p in range(3)}
        self.controller = PopulationBasedTraining(cfg, range(3), {"alive": 1.0})
        self.controller.load()
        self.controller.attach(SerialPopulation(self.learners, self.env_vector, self.policy_of_agent))
        self.controller.on_start(self.lifecycle)

    def episodes(self, rewards):
        for pid, reward in rewards.items():
            self.lifecycle.record_episodes(pid, [{"reward": -1.0, "length": 1, "true_objective": reward}])

    def close(self):
        self.lifecycle.finish(None)
        self.env_vector.close()


def _shaping_of_rows(env_vector):
    return [env.env.shaping["alive"] for env in env_vector.envs]  # one agent per env: env index = row


def test_controller_replaces_copies_bumps_and_never_touches_policy_0(tmp_path):
    cfg = pbt_cfg(tmp_path, pbt_mutation_rate=1.0, pbt_replace_fraction=0.34, max_policy_lag=20)
    run = _Run(cfg)
    try:
        for learner in run.learners.values():
            learner.policy_version = 7
        run.learners[1].policy_version = 30
        run.episodes({0: 50.0, 1: 100.0, 2: 10.0})
        base = {name: float(cfg[name]) for name in HYPERPARAMETERS}
        before_0 = {k: v.clone() for k, v in run.learners[0].actor_critic.state_dict().items()}
        for pid in range(3):
            run.lifecycle.add_env_steps(pid, 150)
        run.controller.on_iteration(run.lifecycle)

        records = read_summary(cfg)
        assert [r["policy_id"] for r in records] == [1, 2]  # policy 0 has no rounds
        replaced = records[1]
        assert replaced["replaced_by"] == 1 and replaced["gap"] == pytest.approx(90.0)
        # weights copied (mutations touch hyperparameters and shaping only), version moved past max_policy_lag
        source = run.learners[1].actor_critic.state_dict()
        for key, value in run.learners[2].actor_critic.state_dict().items():
            assert torch.equal(value, source[key]), key
        assert run.learners[2].policy_version == 7 + 20 + 1 == replaced["policy_version_after"]
        assert run.lifecycle.env_steps[2] == 150  # its own env-step counter
        # the copy starts from policy 1's settings, then mutates (rate 1: every value)
        copied, changes = replaced["copied_hyperparameters"], replaced["hyperparameters"]
        assert set(changes) == set(HYPERPARAMETERS)
        assert all(changes[name][0] == copied[name] for name in HYPERPARAMETERS)
        settings_2 = run.controller.settings[2]
        assert settings_2.hyperparameters == {name: new for name, (_old, new) in changes.items()}
        # the learner trains with them at once
        assert run.learners[2].cfg.learning_rate == settings_2.hyperparameters["learning_rate"]
        assert run.learners[2].coeffs.clip_ratio == settings_2.hyperparameters["ppo_clip_ratio"]
        assert run.learners[2].lr_schedule.lr == pytest.approx(settings_2.hyperparameters["learning_rate"])
        # and the envs of its agents (rows 2 and 5) have its reward shaping, the others theirs
        rows = _shaping_of_rows(run.env_vector)
        assert rows[2] == rows[5] == settings_2.reward_shaping["alive"] != 1.0
        assert rows[0] == rows[3] == 1.0
        # policy 0: settings, learner and weights untouched
        assert run.controller.settings[0].hyperparameters == base and run.controller.settings[0].mutations == 0
        assert run.learners[0].cfg.learning_rate == cfg.learning_rate and run.learners[0].policy_version == 7
        assert all(torch.equal(v, before_0[k]) for k, v in run.learners[0].actor_critic.state_dict().items())
        # saved, and what a resumed run loads
        for pid in range(3):
            saved = load_policy_settings(cfg, pid)
            assert saved == run.controller.settings[pid]
        assert run.controller.settings[1].next_round_env_steps == 200
        # not due again before the next point of the grid
        run.controller.on_iteration(run.lifecycle)
        assert len(read_summary(cfg)) == 2
    finally:
        run.close()


def test_a_round_waits_for_every_policy_to_have_an_objective(tmp_path):
    cfg = pbt_cfg(tmp_path, pbt_mutation_rate=1.0)
    run = _Run(cfg)
    try:
        run.episodes({0: 50.0, 1: 100.0})
        for pid in range(3):
            run.lifecycle.add_env_steps(pid, 150)
        run.controller.on_iteration(run.lifecycle)
        assert read_summary(cfg) == [] and run.controller.settings[1].next_round_env_steps == 100
        run.episodes({2: 10.0})
        run.controller.on_iteration(run.lifecycle)
        assert [r["policy_id"] for r in read_summary(cfg)] == [1, 2]
    finally:
        run.close()


def test_learner_takes_new_hyperparameters_without_touching_a_shared_cfg():
    cfg = pbt_cfg()
    env_vector = make_env_vector(cfg, 0, 0, 2, False)
    try:
        a, b = (Learner(cfg, env_vector.observation_space, env_vector.action_space, policy_id=p) for p in (0, 1))
        a.set_hyperparameters({"learning_rate": 0.5, "value_loss_coeff": 2.0, "max_grad_norm": 0.25})
        assert a.lr_schedule.lr == 0.5 and a.coeffs.value_loss_coeff == 2.0 and a.cfg.max_grad_norm == 0.25
        assert b.cfg.learning_rate == cfg.learning_rate == 1e-4 and b.coeffs.value_loss_coeff == 0.5
    finally:
        env_vector.close()


# ---- bad input -----------------------------------------------------------------------------------------------------


def test_pbt_with_one_policy_is_refused_before_start():
    with pytest.raises(ConfigError, match=r"with_pbt=True needs a population.*num_policies=1.*--num_policies=2"):
        make_cfg(with_pbt=True)


def test_pbt_settings_without_with_pbt_are_refused():
    with pytest.raises(ConfigError, match=r"--pbt_mutation_rate is used only with --with_pbt"):
        make_cfg(pbt_mutation_rate=0.5)
