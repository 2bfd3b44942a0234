"""Shared helpers of the example tests: one torch thread (the machine is shared), and a stop-at-reward observer."""

import pytest
import torch

from sf_runtime import RunObserver


@pytest.fixture(autouse=True)
def _one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class StopAtReward(RunObserver):
    """Stops training once policy 0's average reward over ``stats_avg`` episodes reaches ``threshold``."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.reached_at_env_steps = None
        self.final_reward = None
        self.env_steps = 0

    def on_iteration(self, run):
        reward = run.mean_reward(0)
        if run.stats[0].num_episodes >= run.cfg.stats_avg and reward is not None and reward >= self.threshold:
            self.reached_at_env_steps = run.total_env_steps
            run.request_stop(f"average reward {reward:.1f} >= {self.threshold}")

    def on_finish(self, run):
        self.final_reward = run.mean_reward(0)
        self.env_steps = run.total_env_steps


@pytest.fixture
def stop_at_reward():
    return StopAtReward
