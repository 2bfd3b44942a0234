"""Parameters of the experiment lifecycle: log_to_file, flush_summaries_interval, save_milestones_sec."""

from __future__ import annotations

import time

import torch

from sf_config import experiment_dir
from sf_runtime import RunObserver, run_rl
from sf_runtime.storage import CheckpointManager

torch.set_num_threads(1)


class SlowIterations(RunObserver):
    def on_iteration(self, run):
        time.sleep(1.05)


def test_milestones_are_kept_while_regular_checkpoints_rotate(tmp_path, small_cfg):
    cfg = small_cfg(tmp_path, train_for_env_steps=128 * 4, save_every_sec=1, keep_checkpoints=1, save_milestones_sec=1)
    assert run_rl(cfg, observers=[SlowIterations()]) == 0
    manager = CheckpointManager(cfg, 0)
    assert [info.env_steps for info in manager.list_checkpoints()] == [512]
    milestones = manager.list_milestones()
    assert [info.env_steps for info in milestones] == [128, 256, 384, 512]
    assert all(info.path.parent == manager.directory / "milestones" for info in milestones)
    assert manager.load()["env_steps"] == 512  # resuming reads the regular checkpoints only


def test_no_milestones_by_default(tmp_path, small_cfg):
    cfg = small_cfg(tmp_path, train_for_env_steps=256)
    assert run_rl(cfg) == 0
    assert CheckpointManager(cfg, 0).list_milestones() == []


def test_log_to_file_switches_sf_log(tmp_path, small_cfg):
    on = small_cfg(tmp_path, train_for_env_steps=128)
    assert run_rl(on) == 0
    assert (experiment_dir(on) / "sf_log.txt").stat().st_size > 0
    off = small_cfg(tmp_path, experiment="quiet", train_for_env_steps=128, log_to_file=False)
    assert run_rl(off) == 0
    assert (experiment_dir(off) / "config.json").is_file()
    assert not (experiment_dir(off) / "sf_log.txt").exists()


def test_flush_summaries_interval_reaches_the_writer(tmp_path, monkeypatch, small_cfg):
    from sf_runtime import storage

    seen = []
    original = storage.SummaryWriter.__init__

    def spy(self, cfg, policy_id=0, flush_secs=20):
        seen.append(flush_secs)
        original(self, cfg, policy_id, flush_secs)

    monkeypatch.setattr(storage.SummaryWriter, "__init__", spy)
    assert run_rl(small_cfg(tmp_path, train_for_env_steps=128, flush_summaries_interval=7)) == 0
    assert seen == [7]
