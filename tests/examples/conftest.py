"""Shared helpers of the example tests: one torch thread (the machine is shared), training to a target reward."""

import time

import pytest
import torch

from sf_runtime import StopAtReward, run_rl


@pytest.fixture(autouse=True)
def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def train_to_reward():
    """``train_to_reward(cfg, reward) -> StopAtReward``: trains until the average reward over ``stats_avg`` episodes
    reaches ``reward``, prints how long it took, and asserts that it was reached."""

    def train(cfg, reward: float) -> StopAtReward:
        observer = StopAtReward(reward)
        start = time.monotonic()
        assert run_rl(cfg, observers=[observer]) == 0
        seconds = time.monotonic() - start
        print(f"{cfg.env}: average {observer.final_reward:.2f} after {observer.env_steps} env steps, {seconds:.0f} s")
        assert observer.reached_at_env_steps is not None, f"{cfg.env} stayed at {observer.final_reward} < {reward}"
        return observer

    return train
