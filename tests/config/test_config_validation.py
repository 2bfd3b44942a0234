"""Validation: every failure names the parameters and what would be accepted."""

import pytest

from sf_config import Config, ConfigError, make_cfg, validate_cfg


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"num_envs_per_worker": 3}, r"num_envs_per_worker \(3\) must be divisible by worker_num_splits \(2\).*=4"),
        ({"num_envs_per_worker": 4, "worker_num_splits": 3}, r"num_envs_per_worker \(4\).*worker_num_splits \(3\)"),
        ({"with_vtrace": True, "normalize_returns": False, "recurrence": 16}, r"with_vtrace=True needs recurrence =="),
        ({"with_vtrace": True}, r"with_vtrace=True is incompatible with normalize_returns=True"),
        ({"use_rnn": True, "recurrence": 1}, r"use_rnn=True needs recurrence > 1.*--recurrence=32.*--use_rnn=False"),
        ({"rollout": 32, "recurrence": 12}, r"rollout \(32\) must be a multiple of recurrence \(12\)"),
        ({"rollout": 16, "recurrence": 32}, r"rollout \(16\) must be a multiple of recurrence \(32\)"),
        ({"async_rl": False, "batch_size": 1000}, r"sync mode \(async_rl=False\) needs batch_size \(1000\).*=1024"),
        ({"lr_adaptive_min": 0.1, "lr_adaptive_max": 0.01}, r"lr_adaptive_min \(0.1\) must not exceed"),
        ({"pbt_perturb_min": 2.0, "pbt_perturb_max": 1.5}, r"pbt_perturb_min \(2.0\) must not exceed"),
    ],
)
def test_cross_parameter_rules(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_cfg(**overrides)


def test_valid_combinations_pass():
    make_cfg(with_vtrace=True, normalize_returns=False)  # automatic recurrence == rollout
    assert make_cfg(with_vtrace=True, normalize_returns=False, use_rnn=False, rollout=16).recurrence == 16
    make_cfg(async_rl=False, batch_size=2048, rollout=64)
    make_cfg(num_envs_per_worker=6, worker_num_splits=3)
    make_cfg(use_rnn=False, recurrence=1)
    make_cfg(async_rl=True, batch_size=1000)  # the batch rule is a sync-mode rule


def test_policy_index_must_name_a_trained_policy():
    with pytest.raises(ConfigError, match=r"policy_index \(2\) must be below num_policies \(2\); accepted: 0..1"):
        make_cfg(evaluation=True, num_policies=2, policy_index=2)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gamma": 1.5}, r"gamma: 1.5 is out of range.*expected float in \[0, 1\]"),
        ({"batch_size": 0}, r"batch_size: 0 is out of range.*expected int >= 1"),
        ({"rnn_type": "transformer"}, r"rnn_type: 'transformer' is not an accepted value.*one of gru, lstm"),
        ({"encoder_mlp_layers": [64, 0]}, r"encoder_mlp_layers: item 0 is out of range"),
        ({"encoder_mlp_layers": "wide"}, r"encoder_mlp_layers: list item 'wide' is not an integer"),
        ({"use_rnn": "maybe"}, r"use_rnn: 'maybe' is not a boolean"),
        ({"rollout": 2.5}, r"rollout: 2.5 is not a whole number"),
        ({"learning_rate": float("nan")}, r"learning_rate: NaN is not a usable value"),
        ({"num_workers": None}, r"num_workers: None is not accepted"),
        ({"recurrence": 0}, r"recurrence \(0\) must be >= 1, or -1 for automatic"),
    ],
)
def test_single_parameter_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_cfg(**overrides)


def test_all_problems_are_reported_together():
    with pytest.raises(ConfigError) as info:
        make_cfg(num_envs_per_worker=3, with_vtrace=True)
    assert len(info.value.problems) == 2
    assert "2 configuration problems" in str(info.value)


def test_validate_cfg_catches_later_changes():
    cfg = make_cfg()
    cfg.worker_num_splits = 4
    with pytest.raises(ConfigError, match="num_envs_per_worker"):
        validate_cfg(cfg)


def test_validate_cfg_reports_missing_parameters():
    with pytest.raises(ConfigError, match="rollout: missing"):
        validate_cfg(Config.from_dict({"gamma": 0.9}))


def test_integral_floats_are_accepted_for_integers():
    cfg = make_cfg(train_for_env_steps=1e6)
    assert cfg.train_for_env_steps == 1_000_000 and isinstance(cfg.train_for_env_steps, int)
