"""The serial runner and the experiment lifecycle: stop conditions, checkpoints, resume, policy lag, status codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import gymnasium as gym
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sf_config import experiment_dir, layer_saved_config, make_cfg
from sf_registry import register_env
from sf_runtime import RunObserver, run_rl
from sf_runtime.envs import make_env_vector
from sf_runtime.learning import BATCH_KEYS, Learner
from sf_runtime.runners.serial import SerialRunner
from sf_runtime.runners.serial_rollouts import SerialRolloutCollector
from sf_runtime.storage import CheckpointManager

torch.set_num_threads(1)


class Recorder(RunObserver):
    """Records what the run looked like from the outside."""

    def __init__(self):
        self.start_steps = None
        self.final_steps = None
        self.lags: list[tuple[float, float]] = []
        self._last_version = None

    def on_start(self, run):
        self.start_steps = run.total_env_steps

    def on_iteration(self, run):
        train = run.stats[0].train
        if train and train["policy_version"] != self._last_version:
            self._last_version = train["policy_version"]
            self.lags.append((train["policy_lag_min"], train["policy_lag_max"]))

    def on_finish(self, run):
        self.final_steps = run.total_env_steps


def test_stops_at_train_for_env_steps_and_saves(tmp_path, small_cfg):
    recorder = Recorder()
    cfg = small_cfg(tmp_path, train_for_env_steps=1000)
    assert run_rl(cfg, observers=[recorder]) == 0
    assert recorder.start_steps == 0
    # Whole collection rounds of 128 samples: the first round count at or past 1000.
    assert recorder.final_steps == 1024
    exp = experiment_dir(cfg)
    assert (exp / "config.json").is_file() and (exp / "sf_log.txt").is_file()
    state = CheckpointManager(cfg, 0).load()
    assert state["env_steps"] == 1024
    assert state["policy_version"] == state["learner"]["policy_version"] > 0


def test_stops_at_train_for_seconds(tmp_path, small_cfg):
    cfg = small_cfg(tmp_path, train_for_seconds=1)
    recorder = Recorder()
    assert run_rl(cfg, observers=[recorder]) == 0
    assert recorder.final_steps > 0
    assert CheckpointManager(cfg, 0).load()["env_steps"] == recorder.final_steps


class SlowIterations(RunObserver):
    """Makes every iteration last past save_every_sec, so that each one is followed by a periodic checkpoint."""

    def on_iteration(self, run):
        time.sleep(1.05)


@pytest.mark.parametrize("use_frameskip", [True, False])
def test_frameskip_counts_env_frames_and_summaries_can_use_agent_steps(tmp_path, use_frameskip, small_cfg):
    cfg = small_cfg(tmp_path, env_frameskip=2, summaries_use_frameskip=use_frameskip, train_for_env_steps=512)
    assert run_rl(cfg) == 0
    assert CheckpointManager(cfg, 0).load()["env_steps"] == 512  # 2 collection rounds of 128 agent steps x 2 frames
    events = EventAccumulator(str(experiment_dir(cfg) / ".summary" / "0"))
    events.Reload()
    assert events.Scalars("perf/policy_version")[-1].step == (512 if use_frameskip else 256)


def test_periodic_checkpoints_keep_the_latest(tmp_path, small_cfg):
    cfg = small_cfg(tmp_path, train_for_env_steps=128 * 4, save_every_sec=1, keep_checkpoints=2)
    assert run_rl(cfg, observers=[SlowIterations()]) == 0
    infos = CheckpointManager(cfg, 0).list_checkpoints()
    assert [info.env_steps for info in infos] == [384, 512]


def test_resume_continues_steps_weights_optimizer_and_normalizers(tmp_path, small_cfg):
    first = Recorder()
    assert run_rl(small_cfg(tmp_path, train_for_env_steps=512), observers=[first]) == 0
    assert first.final_steps == 512

    cfg = small_cfg(tmp_path, train_for_env_steps=1024, restart_behavior="resume")
    saved = CheckpointManager(cfg, 0).load()
    runner = SerialRunner(cfg)
    try:
        runner.init()
        assert runner.lifecycle.env_steps[0] == 512
        restored = runner.learners[0].checkpoint_state()
    finally:
        runner.lifecycle.finish(None)
        runner.close()
    torch.testing.assert_close(restored["model"], saved["learner"]["model"], rtol=0, atol=0)
    torch.testing.assert_close(restored["optimizer"], saved["learner"]["optimizer"], rtol=0, atol=0)
    assert restored["policy_version"] == saved["learner"]["policy_version"] > 0
    normalizer_keys = [k for k in restored["model"] if "obs_normalizer" in k]
    assert normalizer_keys, "the observation normalizer statistics are part of the model state"
    assert any(float(restored["model"][k].abs().sum()) > 0 for k in normalizer_keys)

    second = Recorder()
    assert run_rl(cfg, observers=[second]) == 0
    assert second.start_steps == 512 and second.final_steps == 1024
    assert CheckpointManager(cfg, 0).load()["env_steps"] == 1024


def test_resume_layers_the_saved_config_under_given_values(tmp_path, small_cfg, serial_config):
    assert run_rl(small_cfg(tmp_path, train_for_env_steps=256, encoder_mlp_layers=[24])) == 0
    # Given again: only what changes. The model size must come from config.json for the checkpoint to fit.
    given = serial_config(without=["encoder_mlp_layers"])
    cfg = make_cfg(**given, experiment="exp", train_dir=str(tmp_path), train_for_env_steps=512)
    assert cfg.encoder_mlp_layers != [24]
    runner = SerialRunner(layer_saved_config(cfg))  # what run_rl does before it builds a runner
    try:
        runner.init()
        assert runner.cfg.encoder_mlp_layers == [24]
        assert runner.cfg.source_of("encoder_mlp_layers") == "saved"
        assert runner.cfg.train_for_env_steps == 512
        runner.train_loop()
        runner.lifecycle.finish(runner.learners)
    finally:
        runner.lifecycle.finish(None)
        runner.close()
    assert CheckpointManager(cfg, 0).load()["env_steps"] == 512


def test_restart_behavior_restart_starts_from_zero(tmp_path, small_cfg):
    assert run_rl(small_cfg(tmp_path, train_for_env_steps=256)) == 0
    recorder = Recorder()
    assert run_rl(small_cfg(tmp_path, train_for_env_steps=256, restart_behavior="restart"), observers=[recorder]) == 0
    assert recorder.start_steps == 0


def test_sync_mode_has_zero_policy_lag(tmp_path, small_cfg):
    recorder = Recorder()
    cfg = small_cfg(tmp_path, async_rl=False, batch_size=128, num_batches_per_epoch=1, train_for_env_steps=128 * 5)
    assert run_rl(cfg, observers=[recorder]) == 0
    assert recorder.lags == [(0.0, 0.0)] * 5


def test_sync_mode_drops_what_does_not_fill_a_batch(tmp_path, caplog, small_cfg):
    # 8 trajectories per collection round, 6 per batch: 2 of every 8 are dropped rather than trained on stale.
    recorder = Recorder()
    cfg = small_cfg(tmp_path, async_rl=False, batch_size=96, num_batches_per_epoch=1, train_for_env_steps=128 * 3)
    assert run_rl(cfg, observers=[recorder]) == 0
    assert "2 of every 8 trajectories collected are dropped in sync mode" in caplog.text
    assert recorder.lags == [(0.0, 0.0)] * 3


def test_async_mode_trains_one_batch_behind(tmp_path, small_cfg):
    recorder = Recorder()
    cfg = small_cfg(tmp_path, async_rl=True, batch_size=128, num_batches_per_epoch=1, train_for_env_steps=128 * 5)
    assert run_rl(cfg, observers=[recorder]) == 0
    # The first batch is trained on once the second was collected by the same weights; after that every batch was
    # collected by the weights from just before the previous optimizer step.
    assert recorder.lags == [(0.0, 0.0)] + [(1.0, 1.0)] * 3


def test_same_seed_same_weights(tmp_path, small_cfg):
    states = []
    for experiment in ("a", "b"):
        cfg = small_cfg(tmp_path, experiment=experiment, train_for_env_steps=512, seed=7)
        assert run_rl(cfg) == 0
        states.append(CheckpointManager(cfg, 0).load()["learner"]["model"])
    torch.testing.assert_close(states[0], states[1], rtol=0, atol=0)


def test_two_policies_share_the_agents(tmp_path, small_cfg):
    cfg = small_cfg(tmp_path, num_policies=2, train_for_env_steps=256)
    recorder = Recorder()
    assert run_rl(cfg, observers=[recorder]) == 0
    for pid in (0, 1):
        state = CheckpointManager(cfg, pid).load()
        assert state["env_steps"] >= 256
        assert state["learner"]["policy_id"] == pid


def test_resume_with_only_the_experiment_named_takes_every_policy_from_config_json(tmp_path, small_cfg):
    cfg = small_cfg(tmp_path, num_policies=2, train_for_env_steps=256)
    assert run_rl(cfg) == 0

    # serial_mode, num_policies=2 and the env come from config.json: the runner is chosen after the resume is resolved
    resumed = make_cfg(["--experiment", "exp", "--train_dir", str(tmp_path), "--train_for_env_steps", "512"])
    assert not resumed.serial_mode and resumed.num_policies == 1
    recorder = Recorder()
    assert run_rl(resumed, observers=[recorder]) == 0
    assert recorder.start_steps >= 512  # both policies restored
    for pid in (0, 1):
        assert CheckpointManager(cfg, pid).load()["env_steps"] >= 512


def test_policy_without_agents_is_a_failure_before_start(tmp_path, caplog, small_cfg):
    assert run_rl(small_cfg(tmp_path, num_policies=9)) == 1
    assert "num_policies=9 is more than the 8 envs of the run" in caplog.text
    assert "Accepted: num_policies from 1 to 8" in caplog.text
    assert not (tmp_path / "exp").exists()


def test_batch_of_partial_trajectories_is_a_failure(tmp_path, caplog, small_cfg):
    cfg = small_cfg(tmp_path, batch_size=100, num_batches_per_epoch=1)
    assert run_rl(cfg) == 1
    assert "not a multiple of rollout=16" in caplog.text


class ExplodingEnv(gym.Wrapper):
    """CartPole that raises after a few steps, like a simulator crashing."""

    def __init__(self):
        super().__init__(gym.make("CartPole-v1"))
        self.steps = 0

    def step(self, action):
        self.steps += 1
        if self.steps > 40:
            raise RuntimeError("simulator crashed")
        return self.env.step(action)


def make_exploding_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    return ExplodingEnv()


register_env("test_exploding_env", make_exploding_env)


def test_env_failure_returns_1_and_logs(tmp_path, caplog, small_cfg):
    cfg = small_cfg(tmp_path, env="test_exploding_env", train_for_env_steps=10_000)
    assert run_rl(cfg) == 1
    assert "simulator crashed" in caplog.text
    assert "simulator crashed" in (experiment_dir(cfg) / "sf_log.txt").read_text()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_saves_and_returns_2(tmp_path, sig, small_cfg, serial_config):
    script = textwrap.dedent(
        f"""
        import sys, torch
        torch.set_num_threads(1)
        from sf_config import make_cfg
        from sf_runtime import run_rl
        cfg = make_cfg(**{serial_config()!r}, experiment="interrupted", train_dir={str(tmp_path)!r})
        sys.exit(run_rl(cfg))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log_file = tmp_path / "interrupted" / "sf_log.txt"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if log_file.is_file() and "Serial" in log_file.read_text():
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[0]
    time.sleep(1.0)  # into the training loop
    os.kill(proc.pid, sig)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, output
    cfg = small_cfg(tmp_path, experiment="interrupted")
    state = CheckpointManager(cfg, 0).load()
    assert state is not None and state["env_steps"] > 0
    assert "Interrupted" in log_file.read_text()


def test_rollout_collector_fills_the_learner_batch_layout(serial_config):
    cfg = make_cfg(**serial_config(use_rnn=True, rnn_size=8, rollout=32))
    vec = make_env_vector(cfg, 0, 0, 4, batched=False)
    learner = Learner(cfg, vec.observation_space, vec.action_space)
    version = {"v": 0}
    collector = SerialRolloutCollector(
        vec, {0: learner.actor_critic}, lambda pid: version["v"], [0] * 4, 32, torch.device("cpu")
    )
    try:
        first, episodes = collector.collect()
        batch = first[0]
        assert set(batch) == set(BATCH_KEYS)
        assert batch["obs"]["obs"].shape == (4, 33, 4) and batch["obs"]["obs"].dtype == torch.float32
        assert batch["rnn_states"].shape == (4, 33, 8)
        assert batch["actions"].shape == (4, 32) and batch["actions"].dtype == torch.int64
        assert batch["action_logits"].shape == (4, 32, 2)
        assert batch["values"].shape == (4, 33)
        assert torch.equal(batch["rewards"], torch.ones(4, 32))  # CartPole pays 1 per step
        assert batch["valids"].all() and (batch["policy_version"] == 0).all()
        # Random play ends CartPole episodes within 32 steps; each one's recurrent state restarts from zeros.
        dones = batch["dones"]
        assert dones.any() and len(episodes) == int(dones.sum())
        after_done = batch["rnn_states"][:, 1:][dones]
        assert torch.count_nonzero(after_done) == 0
        assert torch.count_nonzero(batch["rnn_states"][:, 1:][~dones]) > 0
        # The stored log-probabilities are those of the stored actions under the stored distribution parameters.
        dist = learner.actor_critic.action_distribution(batch["action_logits"].reshape(128, 2))
        torch.testing.assert_close(dist.log_prob(batch["actions"].reshape(128)), batch["log_prob_actions"].reshape(128))

        version["v"] = 1  # as if the learner trained in between
        second, _ = collector.collect()
        # The next rollout starts where the last one stopped, and every action of it carries the new version.
        torch.testing.assert_close(second[0]["obs"]["obs"][:, 0], batch["obs"]["obs"][:, 32])
        torch.testing.assert_close(second[0]["rnn_states"][:, 0], batch["rnn_states"][:, 32])
        assert (second[0]["policy_version"] == 1).all()
    finally:
        vec.close()
