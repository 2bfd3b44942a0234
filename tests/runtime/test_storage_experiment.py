"""The experiment directory: restart_behavior, writability checks, config.json, log file, TensorBoard summaries."""

import json
import logging

import pytest

from sf_config import ConfigError, experiment_dir, load_saved_config, make_cfg
from sf_runtime.storage import (
    StorageError,
    SummaryWriter,
    close_log_file,
    prepare_experiment_dir,
    save_config,
    setup_log_file,
)


def cfg_in(train_dir, **overrides):
    return make_cfg(env="CartPole-v1", experiment="exp", train_dir=str(train_dir), **overrides)


def test_resume_keeps_the_directory(tmp_path):
    exp = prepare_experiment_dir(cfg_in(tmp_path))
    assert exp == tmp_path / "exp" and exp.is_dir()
    (exp / "marker").write_text("kept")
    assert prepare_experiment_dir(cfg_in(tmp_path, restart_behavior="resume")) == exp
    assert (exp / "marker").read_text() == "kept"


def test_restart_moves_the_old_directory_aside(tmp_path):
    exp = prepare_experiment_dir(cfg_in(tmp_path))
    (exp / "marker").write_text("old run")
    assert prepare_experiment_dir(cfg_in(tmp_path, restart_behavior="restart")) == exp
    assert list(exp.iterdir()) == []
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("exp_old_")]
    assert len(aside) == 1 and (aside[0] / "marker").read_text() == "old run"
    (exp / "marker").write_text("second run")
    prepare_experiment_dir(cfg_in(tmp_path, restart_behavior="restart"))  # same second: a distinct name
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("exp_old_")]) == 2


def test_overwrite_deletes_the_old_directory(tmp_path):
    exp = prepare_experiment_dir(cfg_in(tmp_path))
    (exp / "marker").write_text("old run")
    prepare_experiment_dir(cfg_in(tmp_path, restart_behavior="overwrite"))
    assert exp.is_dir() and list(exp.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["exp"]


def test_unusable_train_dir_is_a_clear_error_naming_the_path(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="Cannot create the experiment directory") as err:
        prepare_experiment_dir(cfg_in(blocker / "train_dir"))
    assert str(blocker / "train_dir" / "exp") in str(err.value)
    (tmp_path / "exp_is_file").mkdir()
    (tmp_path / "exp_is_file" / "exp").write_text("x")
    with pytest.raises(StorageError, match="not a directory"):
        prepare_experiment_dir(cfg_in(tmp_path / "exp_is_file"))


def test_config_json_round_trip(tmp_path):
    cfg = cfg_in(tmp_path, gamma=0.95, seed=11)
    assert load_saved_config(cfg) is None
    prepare_experiment_dir(cfg)
    path = save_config(cfg)
    assert path == experiment_dir(cfg) / "config.json"
    saved = load_saved_config(cfg)
    assert saved["gamma"] == 0.95 and saved["seed"] == 11 and saved["env"] == "CartPole-v1"
    assert json.loads(path.read_text()) == saved
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.json"]  # written via a renamed temp file


def test_unreadable_config_json_is_a_clear_error(tmp_path):
    cfg = cfg_in(tmp_path)
    exp = prepare_experiment_dir(cfg)
    (exp / "config.json").write_text('{"gamma": 0.9')  # torn JSON
    with pytest.raises(ConfigError, match=r"config\.json.*cannot be read"):
        load_saved_config(cfg)


def test_log_file_receives_the_runtime_logs(tmp_path):
    cfg = cfg_in(tmp_path)
    prepare_experiment_dir(cfg)
    handler = setup_log_file(cfg)
    try:
        assert setup_log_file(cfg) is handler
        logging.getLogger("sf_runtime.some_module").info("hello from the runtime")
    finally:
        close_log_file(handler)
    text = (experiment_dir(cfg) / "sf_log.txt").read_text()
    assert "hello from the runtime" in text and "sf_runtime.some_module" in text


def test_summaries_are_readable_by_tensorboard(tmp_path):
    import numpy as np
    import torch
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = cfg_in(tmp_path)
    with SummaryWriter(cfg, policy_id=0) as writer:
        for step in (100, 200, 300):
            writer.scalars(
                {
                    "reward/episode_reward": step / 10,
                    "train/loss": torch.tensor(0.5),
                    "perf/fps": np.float32(1000.0),
                    "note": "skipped",
                    "missing": None,
                },
                step,
            )
    assert writer.log_dir == tmp_path / "exp" / ".summary" / "0"
    events = EventAccumulator(str(writer.log_dir))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {"reward/episode_reward", "train/loss", "perf/fps"}
    rewards = events.Scalars("reward/episode_reward")
    assert [(e.step, e.value) for e in rewards] == [(100, 10.0), (200, 20.0), (300, 30.0)]
    assert [e.value for e in events.Scalars("train/loss")] == [0.5] * 3
