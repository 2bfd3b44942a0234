"""The serial runner learns CartPole-v1 in every mode: {sync, async} x {batched, non-batched} sampling.

Each run stops as soon as the average reward over the last 100 episodes reaches 450 (a random policy averages about
22; the maximum is 500). The parallel runner's twin of this test is test_parallel_learning.py.
"""

from __future__ import annotations

import pytest
import torch

from sf_config import make_cfg
from sf_runtime import StopAtReward, run_rl

torch.set_num_threads(1)

TARGET_REWARD = 450.0


def _learns_cartpole(tmp_path, learning_config, **overrides) -> None:
    observer = StopAtReward(TARGET_REWARD)
    cfg = make_cfg(
        **learning_config(use_rnn=False, reward_scale=0.1, seed=1, **overrides),
        env="CartPole-v1",
        experiment="cartpole",
        train_dir=str(tmp_path),
        train_for_env_steps=1_000_000,
        train_for_seconds=300,
    )

    assert run_rl(cfg, observers=[observer]) == 0
    assert observer.best >= TARGET_REWARD, f"best average reward {observer.best:.1f} < {TARGET_REWARD}"


@pytest.mark.slow
@pytest.mark.parametrize("batched", [False, True], ids=["non_batched", "batched"])
@pytest.mark.parametrize("async_rl", [False, True], ids=["sync", "async"])
def test_serial_runner_learns_cartpole(tmp_path, learning_config, async_rl, batched):
    _learns_cartpole(tmp_path, learning_config, async_rl=async_rl, batched_sampling=batched)


@pytest.mark.slow
def test_serial_runner_learns_cartpole_with_a_bfloat16_encoder(tmp_path, learning_config):
    """encoder_precision=bfloat16 (emulated where the CPU has no native bfloat16) learns as float32 does."""
    _learns_cartpole(tmp_path, learning_config, encoder_precision="bfloat16")
