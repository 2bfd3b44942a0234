"""Shared helpers of the example tests: one torch thread (the machine is shared), training to a target reward, a brief
end-to-end run of a train and an enjoy script."""

import json
import math
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


BRIEF_RUN = [
    "--serial_mode=True",
    "--num_workers=1",
    "--num_envs_per_worker=4",
    "--worker_num_splits=1",
    "--train_for_env_steps=4096",
    "--seed=0",
]


@pytest.fixture
def train_briefly_then_enjoy(tmp_path):
    """``train_briefly_then_enjoy(train_main, enjoy_main, env, *train_args, enjoy_args=()) -> (config.json, reward)``.

    Trains ``env`` for 4096 env steps in one process with a train script's ``main``, checks that it saved a checkpoint,
    evaluates it with the enjoy script's ``main`` (``--no_render``) and returns the saved config and the average
    reward of the evaluation.
    """

    def run(train_main, enjoy_main, env: str, *train_args: str, enjoy_args=()) -> tuple[dict, float]:
        names = [f"--env={env}", "--experiment=brief", f"--train_dir={tmp_path}", "--device=cpu"]
        assert train_main([*names, *BRIEF_RUN, *train_args]) == 0
        experiment = tmp_path / "brief"
        assert list((experiment / "checkpoint_p0").glob("checkpoint_*.pth"))

        status, avg_reward = enjoy_main([*names, "--no_render", *enjoy_args])
        assert status == 0 and math.isfinite(avg_reward)
        return json.loads((experiment / "config.json").read_text()), avg_reward

    return run
