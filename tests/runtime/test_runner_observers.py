"""make_runner / Runner / AlgoObserver: Sample Factory 2-style observers of a run, mapped onto RunObserver callbacks;
the training-step and episode callbacks of RunObserver; ExperimentStatus."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sf_config import make_cfg
from sf_registry import register_env
from sf_runtime import (
    EPISODIC,
    AlgoObserver,
    ExperimentStatus,
    Runner,
    RunObserver,
    make_runner,
    run_rl,
)

torch.set_num_threads(1)


@pytest.fixture
def small_cfg(serial_config):
    """A serial run of 4 envs, one minibatch per round, summaries every second."""

    def make(train_dir, **overrides):
        layer = dict(num_envs_per_worker=4, num_batches_per_epoch=1, encoder_mlp_layers=[8])
        return make_cfg(
            **serial_config(
                layer, experiment_summaries_interval=1, experiment="runner", **overrides, train_dir=str(train_dir)
            )
        )

    return make


class CartPoleWithExtraStats(gym.Wrapper):
    """CartPole that reports ``episode_extra_stats`` on the last step of each episode."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            info = {**info, "episode_extra_stats": {"pole_bonus": 7.0}}
        return obs, reward, terminated, truncated, info


def make_cartpole_with_extra_stats(full_env_name, cfg, env_config, render_mode=None):
    return CartPoleWithExtraStats(gym.make("CartPole-v1", render_mode=render_mode))


class Recorder(AlgoObserver):
    def __init__(self, stop_after: int = 3):
        self.calls: list[str] = []
        self.training_steps: list[int] = []
        self.summaries: list[tuple[int, int]] = []
        self.stop_after = stop_after
        self.runners: set[int] = set()

    def on_init(self, runner):
        self.calls.append("on_init")
        self.runners.add(id(runner))

    def on_connect_components(self, runner):
        self.calls.append("on_connect_components")

    def on_start(self, runner):
        self.calls.append("on_start")
        self.runners.add(id(runner))
        assert runner.lifecycle is not None and runner.cfg is runner.lifecycle.cfg

    def on_training_step(self, runner, training_iteration_since_resume):
        self.calls.append("on_training_step")
        self.training_steps.append(training_iteration_since_resume)
        if training_iteration_since_resume >= self.stop_after:
            runner.lifecycle.request_stop("enough training steps")

    def extra_summaries(self, runner, policy_id, env_steps, writer):
        self.summaries.append((policy_id, env_steps))
        writer.add_scalar("custom/answer", 42.0, 123)  # the step given here is not used

    def on_stop(self, runner):
        self.calls.append("on_stop")


def test_algo_observers_see_the_run_through_the_runner(tmp_path, small_cfg):
    recorder = Recorder(stop_after=3)
    cfg, runner = make_runner(small_cfg(tmp_path))
    assert isinstance(runner, Runner) and runner.cfg is cfg
    runner.register_observer(recorder)

    assert runner.init() == ExperimentStatus.SUCCESS
    assert recorder.calls == ["on_init", "on_connect_components"]
    status = runner.run()

    assert status is ExperimentStatus.SUCCESS and status == 0
    calls = recorder.calls
    assert calls[:3] == ["on_init", "on_connect_components", "on_start"] and calls[-1] == "on_stop"
    assert recorder.training_steps == [1, 2, 3], "one call per training step, counted from 1"
    assert recorder.runners == {id(runner)}
    assert recorder.summaries and all(pid == 0 and steps > 0 for pid, steps in recorder.summaries)
    events = EventAccumulator(str(tmp_path / "runner" / ".summary" / "0"))
    events.Reload()
    answers = events.Scalars("custom/answer")
    assert answers and {event.value for event in answers} == {42.0}
    assert all(event.step != 123 for event in answers)


def test_episodic_stats_handlers_get_each_episode_with_its_extra_stats(tmp_path, small_cfg):
    register_env("test_runner_cartpole_extra_stats", make_cartpole_with_extra_stats)
    messages = []

    def handler(runner, msg, policy_id):
        messages.append((runner, msg, policy_id))

    _, runner = make_runner(small_cfg(tmp_path, env="test_runner_cartpole_extra_stats", train_for_env_steps=300))
    runner.register_episodic_stats_handler(handler)
    assert runner.init() == ExperimentStatus.SUCCESS
    assert runner.run() == ExperimentStatus.SUCCESS

    assert messages
    for who, msg, policy_id in messages:
        assert who is runner and policy_id == 0 and set(msg) == {EPISODIC}
        episode = msg[EPISODIC]
        assert episode["episode_extra_stats"] == {"pole_bonus": 7.0}
        assert episode["reward"] == episode["length"] > 0  # CartPole: reward 1 per step


def test_run_observers_get_training_steps_and_episodes(tmp_path, small_cfg):
    class Counter(RunObserver):
        def __init__(self):
            self.steps, self.episodes = [], []

        def on_training_step(self, run, policy_id):
            self.steps.append((policy_id, run.training_steps))

        def on_episode(self, run, policy_id, episode):
            self.episodes.append((policy_id, episode["reward"], episode["length"]))

    counter = Counter()
    assert run_rl(small_cfg(tmp_path, train_for_env_steps=256), [counter]) == ExperimentStatus.SUCCESS
    assert counter.steps == [(0, n) for n in range(1, len(counter.steps) + 1)] and len(counter.steps) >= 3
    assert counter.episodes and all(pid == 0 and reward == length for pid, reward, length in counter.episodes)


def test_a_run_observer_can_be_registered_on_a_runner_too(tmp_path, small_cfg):
    class Stopper(RunObserver):
        started = False

        def on_start(self, run):
            Stopper.started = True
            run.request_stop("at once")

    _, runner = make_runner(small_cfg(tmp_path))
    runner.register_observer(Stopper())
    assert runner.init() == 0 and runner.run() == 0 and Stopper.started


def test_run_before_init_and_bad_registrations_are_refused(tmp_path, small_cfg):
    _, runner = make_runner(small_cfg(tmp_path))
    with pytest.raises(RuntimeError, match=r"needs a successful Runner.init\(\) first"):
        runner.run()
    with pytest.raises(TypeError, match=r"AlgoObserver or a RunObserver .* got str 'observer'"):
        runner.register_observer("observer")
    with pytest.raises(TypeError, match=r"callable handler\(runner, msg, policy_id\), got int 3"):
        runner.register_episodic_stats_handler(3)
    assert not (tmp_path / "runner").exists()


def test_init_fails_on_an_invalid_configuration(tmp_path, caplog, small_cfg):
    cfg = small_cfg(tmp_path)
    cfg.worker_num_splits = 3  # 4 envs per worker do not split in 3; set after validation
    recorder = Recorder()
    _, runner = make_runner(cfg)
    runner.register_observer(recorder)
    assert runner.init() == ExperimentStatus.FAILURE
    assert "worker_num_splits" in caplog.text and recorder.calls == []
    with pytest.raises(RuntimeError):
        runner.run()


def test_experiment_status_values():
    assert [int(s) for s in ExperimentStatus] == [0, 1, 2]
    assert ExperimentStatus(2) is ExperimentStatus.INTERRUPTED and ExperimentStatus.FAILURE == 1
