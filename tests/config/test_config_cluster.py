"""The cluster group of the schema: the distributed runner's settings and the rules that guard them."""

from __future__ import annotations

import pytest

from sf_config import ConfigError, make_cfg

BASE = dict(env="CartPole-v1", rollout=32, batch_size=256, num_batches_per_epoch=2, use_rnn=False)


def error_of(**overrides) -> str:
    with pytest.raises(ConfigError) as info:
        make_cfg(**{**BASE, **overrides})
    return str(info.value)


def test_a_distributed_cfg_is_accepted():
    cfg = make_cfg(**BASE, distributed="ray", ray_address="127.0.0.1:6379", num_sampler_actors=4, learner_world_size=2)
    assert (cfg.distributed, cfg.ray_address, cfg.num_sampler_actors, cfg.learner_world_size) == (
        "ray",
        "127.0.0.1:6379",
        4,
        2,
    )


def test_unknown_backend_is_named():
    message = error_of(distributed="mpi")
    assert "'mpi'" in message and "none, ray" in message


@pytest.mark.parametrize("setting", [dict(ray_address="auto"), dict(num_sampler_actors=4), dict(learner_world_size=2)])
def test_cluster_settings_without_distributed_are_refused(setting):
    message = error_of(**setting)
    assert f"--{next(iter(setting))}" in message and "--distributed=ray" in message


def test_cluster_settings_from_a_file_layer_are_not_refused():
    cfg = make_cfg(**BASE)
    assert cfg.distributed == "none" and cfg.learner_world_size == 1


def test_batch_must_split_into_whole_rollouts_per_rank():
    message = error_of(distributed="ray", learner_world_size=3)
    assert "learner_world_size=3" in message and "batch_size" in message and "multiple of 48" in message


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (dict(serial_mode=True), "serial_mode"),
        (dict(num_policies=2), "num_policies=2"),
        (dict(learner_world_size=2, lr_schedule="kl_adaptive_minibatch"), "kl_adaptive_minibatch"),
    ],
)
def test_what_the_distributed_runner_cannot_do_is_refused(overrides, words):
    message = error_of(distributed="ray", **overrides)
    assert words in message


def test_bounds():
    assert "num_sampler_actors" in error_of(distributed="ray", num_sampler_actors=0)
    assert "learner_rank_timeout_sec" in error_of(distributed="ray", learner_rank_timeout_sec=0.5)
