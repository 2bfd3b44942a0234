"""CheckpointManager: atomic, weights_only-loadable checkpoints, rotation, best checkpoint, corruption fallback."""

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from sf_config import make_cfg
from sf_runtime.storage import CheckpointError, CheckpointManager, load_checkpoint_file


def cfg_in(tmp_path, **overrides):
    return make_cfg(env="CartPole-v1", experiment="ckpt", train_dir=str(tmp_path), **overrides)


def learner_like_state(seed=0):
    """A state like a learner's: model and Adam optimizer state dicts after one step, plus counters."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(3, 4)).sum().backward()
    opt.step()
    return {"model": model.state_dict(), "optimizer": opt.state_dict(), "env_steps": 123, "policy_version": 7}


def assert_same(a, b):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        assert a == b


def test_round_trip_and_plain_torch_load_with_weights_only(tmp_path):
    manager = CheckpointManager(cfg_in(tmp_path), policy_id=0)
    assert manager.load() is None  # fresh start
    state = learner_like_state()
    path = manager.save(state, env_steps=4096, policy_version=7)
    assert path == tmp_path / "ckpt" / "checkpoint_p0" / "checkpoint_000000007_4096.pth"
    assert_same(manager.load(), state)
    assert manager.last_loaded.env_steps == 4096 and manager.last_loaded.policy_version == 7
    raw = torch.load(path, weights_only=True)  # torch's default loader, nothing allow-listed
    assert_same(raw["model"], state["model"])
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_keeps_the_last_keep_checkpoints(tmp_path):
    manager = CheckpointManager(cfg_in(tmp_path, keep_checkpoints=3), policy_id=1)
    for version in range(1, 7):
        manager.save({"v": torch.tensor(version)}, env_steps=version * 1000, policy_version=version)
    infos = manager.list_checkpoints()
    assert [info.policy_version for info in infos] == [4, 5, 6]
    assert manager.load()["v"].item() == 6
    assert manager.directory.name == "checkpoint_p1"


@pytest.mark.parametrize("damage", ["truncate", "flip_byte", "empty"])
def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, caplog, damage):
    manager = CheckpointManager(cfg_in(tmp_path))
    manager.save({"w": torch.arange(1000.0), "step": 1}, env_steps=100, policy_version=1)
    latest = manager.save({"w": torch.arange(1000.0) * 2, "step": 2}, env_steps=200, policy_version=2)
    data = bytearray(latest.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip_byte":  # inside the tensor data: the zip archive still reads fine, the digest does not match
        offset = bytes(data).index(np.float32(1998.0).tobytes())
        data[offset] ^= 0xFF
    else:
        data = bytearray()
    latest.write_bytes(bytes(data))

    with caplog.at_level(logging.WARNING, logger="sf_runtime"):
        state = CheckpointManager(cfg_in(tmp_path)).load()
    assert state["step"] == 1 and torch.equal(state["w"], torch.arange(1000.0))
    assert str(latest) in caplog.text and "Falling back to the previous intact checkpoint" in caplog.text
    assert latest.with_name(latest.name + ".corrupt").exists() and not latest.exists()


def test_no_intact_checkpoint_is_a_clear_error(tmp_path):
    manager = CheckpointManager(cfg_in(tmp_path))
    path = manager.save({"x": torch.ones(3)}, env_steps=10, policy_version=1)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="No intact latest checkpoint") as err:
        manager.load()
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [(np.zeros(3), "numpy.ndarray"), (np.float64(1.5), "numpy.float64"), (object(), "builtins.object")],
)
def test_values_that_would_not_load_with_weights_only_are_refused(tmp_path, value, fragment):
    manager = CheckpointManager(cfg_in(tmp_path))
    with pytest.raises(CheckpointError, match=fragment) as err:
        manager.save({"model": {"layer": value}}, env_steps=1, policy_version=1)
    assert "state['model']['layer']" in str(err.value)
    assert manager.list_checkpoints() == []


def test_best_checkpoint_after_save_best_after_and_only_when_better(tmp_path):
    cfg = cfg_in(tmp_path, save_best_after=1000, save_best_metric="reward")
    manager = CheckpointManager(cfg)
    assert manager.save_best({"m": torch.tensor(0)}, metric=50.0, env_steps=500) is None  # too early
    first = manager.save_best({"m": torch.tensor(1)}, metric=10.0, env_steps=1000, policy_version=3)
    assert first.name == "best_000000003_1000_reward_10.000000.pth"
    assert manager.save_best({"m": torch.tensor(2)}, metric=9.5, env_steps=2000) is None
    assert manager.save_best({"m": torch.tensor(3)}, metric=float("nan"), env_steps=2000) is None
    better = manager.save_best({"m": torch.tensor(4)}, metric=12.25, env_steps=3000, policy_version=5)
    assert [info.path for info in manager.list_checkpoints("best")] == [better]
    assert manager.load("best")["m"].item() == 4
    resumed = CheckpointManager(cfg)  # the best metric so far survives a restart of the process
    assert resumed.best_metric == 12.25
    assert resumed.save_best({"m": torch.tensor(5)}, metric=12.0, env_steps=4000) is None
    assert manager.list_checkpoints() == []  # best checkpoints are not regular ones


def test_a_failed_write_keeps_the_previous_checkpoints(tmp_path):
    manager = CheckpointManager(cfg_in(tmp_path, keep_checkpoints=1))
    good = manager.save({"x": torch.ones(2)}, env_steps=1, policy_version=1)
    # make the next write impossible: a directory sits where its temporary file must be created
    blocked = manager.directory / f".checkpoint_000000002_2.pth.tmp-{os.getpid()}"
    blocked.mkdir()
    with pytest.raises(CheckpointError, match="previous checkpoints") as err:
        manager.save({"x": torch.zeros(2)}, env_steps=2, policy_version=2)
    assert "checkpoint_000000002_2.pth" in str(err.value)
    assert [info.path for info in manager.list_checkpoints()] == [good]
    assert torch.equal(manager.load()["x"], torch.ones(2))


WRITER = textwrap.dedent(
    """
    import sys, torch
    from sf_config import make_cfg
    from sf_runtime.storage import CheckpointManager
    cfg = make_cfg(env="CartPole-v1", experiment="ckpt", train_dir=sys.argv[1], keep_checkpoints=3)
    manager = CheckpointManager(cfg)
    big = torch.randn(4_000_000)
    version = 0
    while True:
        version += 1
        big[0] = version
        manager.save({"big": big, "version": version}, env_steps=version, policy_version=version)
        print(version, flush=True)
    """
)


def test_sigkill_during_writes_never_leaves_a_torn_checkpoint(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(3):  # let a few checkpoints complete, then kill in the middle of later writes
            assert proc.stdout.readline().strip()
        time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    manager = CheckpointManager(cfg_in(tmp_path, keep_checkpoints=3))
    leftovers = [p for p in manager.directory.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # a temporary file of the killed write is cleaned up
    infos = manager.list_checkpoints()
    assert infos
    for info in infos:  # every file under a final name is complete
        assert load_checkpoint_file(info.path)["version"] == info.policy_version
    state = manager.load()
    assert state["big"][0].item() == state["version"] == infos[-1].policy_version
