"""The parallel runner learns CartPole-v1 in every mode: {sync, async} x {batched, non-batched} sampling.

Each run stops as soon as the average reward over the last 100 episodes reaches 450 (a random policy averages
about 22; the maximum is 500). Sync runs must show a policy lag of exactly 0 in the stats and in the summaries.
"""

from __future__ import annotations

import pytest
import torch

from sf_config import experiment_dir, make_cfg
from sf_runtime import StopAtReward, run_rl

torch.set_num_threads(1)

TARGET_REWARD = 450.0

BASE = dict(
    env="CartPole-v1",
    device="cpu",
    num_workers=2,
    worker_num_splits=2,
    rollout=32,
    batch_size=512,
    num_batches_per_epoch=1,
    num_epochs=1,
    use_rnn=False,
    encoder_mlp_layers=[64, 64],
    learning_rate=3e-4,
    reward_scale=0.1,
    train_for_env_steps=2_000_000,
    train_for_seconds=400,
    experiment_summaries_interval=2,
    decorrelate_experience_max_seconds=0,
    seed=1,
)


class StopAtRewardWithLag(StopAtReward):
    """Stops the run once the average reward over the last ``stats_avg`` (100) episodes reaches the target; also
    records the run's policy lag range."""

    lag_range: tuple[float, float] | None = None

    def on_finish(self, run):
        super().on_finish(run)
        self.lag_range = run.policy_lag_range(0)


def summary_scalars(cfg, tag: str) -> list[float]:
    """Every value of a scalar summary of policy 0."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(experiment_dir(cfg) / ".summary" / "0"))
    acc.Reload()
    return [event.value for event in acc.Scalars(tag)]


@pytest.mark.slow
@pytest.mark.parametrize("batched", [False, True], ids=["non_batched", "batched"])
@pytest.mark.parametrize("async_rl", [False, True], ids=["sync", "async"])
def test_parallel_runner_learns_cartpole(tmp_path, async_rl, batched, leftovers):
    observer = StopAtRewardWithLag(TARGET_REWARD)
    cfg = make_cfg(
        **BASE,
        experiment="cartpole",
        train_dir=str(tmp_path),
        async_rl=async_rl,
        batched_sampling=batched,
        num_envs_per_worker=32 if batched else 8,
    )

    status = run_rl(cfg, observers=[observer])

    assert status == 0
    assert observer.reached_at_env_steps is not None, f"best average reward {observer.best:.1f} < {TARGET_REWARD}"
    assert observer.best >= TARGET_REWARD
    lag_min, lag_max = observer.lag_range
    lag_summaries = summary_scalars(cfg, "policy_lag/max")
    assert lag_summaries, "no policy lag in the summaries"
    if not async_rl:
        assert (lag_min, lag_max) == (0, 0)
        assert set(lag_summaries) == {0.0}
    else:
        assert lag_max >= 0
    # Nothing of the run is left: no child process, no shared-memory segment.
    assert leftovers() == ([], set())


@pytest.mark.slow
def test_parallel_runner_learns_cartpole_with_a_recurrent_policy(tmp_path, leftovers):
    observer = StopAtRewardWithLag(TARGET_REWARD)
    cfg = make_cfg(
        **{**BASE, "use_rnn": True, "encoder_mlp_layers": [64]},
        recurrence=-1,
        rnn_type="gru",
        rnn_size=64,
        experiment="cartpole_gru",
        train_dir=str(tmp_path),
        num_envs_per_worker=8,
    )

    assert run_rl(cfg, observers=[observer]) == 0
    assert observer.best >= TARGET_REWARD
    assert leftovers() == ([], set())
