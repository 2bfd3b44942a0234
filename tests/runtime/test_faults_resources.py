"""Fault injection: the resources a run needs are missing (issue 7, item 6).

* an unwritable train_dir, and a full one, are refused before training starts, naming the path and the fix;
* a train_dir that fills up DURING training: the checkpoint write fails with "No space left on device", its temporary
  file is removed, the earlier checkpoints survive and load, the run stops with exit code 1 and leaves nothing;
* /dev/shm too small for the trajectory buffers is detected before any shared memory is allocated (and before any
  worker starts), with the size needed, the size free, and how to fix it.

The train_dir faults use a small tmpfs mounted over the experiment directory (we are root in the test machine);
the tests are skipped, saying why, where mounting is not permitted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess

import pytest

from sf_runtime.storage import load_checkpoint_file

SMALL = dict(worker_num_splits=1)  # over conftest's run_config


@contextlib.contextmanager
def tmpfs_at(directory, size: str, read_only: bool = False):
    """Mount a tmpfs of ``size`` at ``directory`` (created), unmounted on exit; skip the test if mounting fails."""
    directory.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs as a small train_dir here (needs root): {mounted.stderr.strip()}")
    try:
        yield directory
    finally:
        if subprocess.run(["umount", str(directory)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(directory)], capture_output=True)  # busy: detach it anyway


def assert_no_workers_started(run) -> None:
    """The run stopped during its setup: not one worker process reported."""
    output = run.output()
    assert "processes started" not in output, output
    assert "Fps is" not in output, output


def fill(directory, leave: int = 0) -> int:
    """Write a filler file into ``directory`` until its filesystem is full (minus ``leave`` bytes); its size."""
    written = 0
    chunk = b"\0" * (1 << 16)
    with open(directory / "filler.bin", "wb") as f:
        while True:
            free = shutil.disk_usage(directory).free
            if free <= leave:
                break
            try:
                written += f.write(chunk[: max(1, min(len(chunk), free - leave))])
                f.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return written


def test_unwritable_train_dir_is_refused_before_training(training_process, run_config, tmp_path):
    exp_dir = tmp_path / "ro"
    with tmpfs_at(exp_dir, "4m", read_only=True):
        run = training_process("ro", run_config(SMALL, train_for_env_steps=10_000))

        assert run.wait() == 1
        output = run.output()
        assert f"Cannot write to the experiment directory {exp_dir}" in output, output
        assert "Read-only file system" in output, output
        assert "choose a writable --train_dir or fix its permissions" in output, output
        assert_no_workers_started(run)
        run.assert_clean()
        assert list(exp_dir.iterdir()) == []  # nothing could be written, nothing was


@pytest.mark.parametrize(
    ("size", "overrides", "message"),
    [
        # Below the floor every run needs: refused while preparing the directory, before anything is written.
        ("8m", {}, "has only 8.0 MiB free (at least 16 MiB needed for checkpoints)"),
        # Above the floor but below what this model's checkpoints need (weights + Adam moments, kept copies).
        ("32m", {"encoder_mlp_layers": [1024, 1024]}, "has only 32.0 MiB free, but the checkpoints of this run need"),
    ],
    ids=["below-floor", "below-checkpoint-size"],
)
def test_full_train_dir_is_refused_before_training(training_process, run_config, tmp_path, size, overrides, message):
    exp_dir = tmp_path / "full"
    with tmpfs_at(exp_dir, size):
        run = training_process("full", run_config(SMALL, overrides, train_for_env_steps=10_000))

        assert run.wait() == 1
        output = run.output()
        assert f"The experiment directory {exp_dir} {message}" in output, output
        assert "free some space" in output and "choose another --train_dir" in output, output
        assert_no_workers_started(run)
        run.assert_clean()
        if overrides:  # refused once the model's size was known: the directory was set up and loads
            saved, state = run.load_experiment()
            assert saved.encoder_mlp_layers == [1024, 1024] and state is None
            assert not (exp_dir / "checkpoint_p0").exists() or not any((exp_dir / "checkpoint_p0").iterdir())
        else:
            assert list(exp_dir.iterdir()) == []


@pytest.mark.slow
def test_train_dir_filling_up_during_training_keeps_the_earlier_checkpoints(training_process, run_config, tmp_path):
    exp_dir = tmp_path / "fills"
    ckpt_dir = exp_dir / "checkpoint_p0"
    with tmpfs_at(exp_dir, "24m"):
        run = training_process(
            "fills",
            # Summaries only at the end, so the first write to meet the full disk is a checkpoint's.
            run_config(
                SMALL,
                train_for_env_steps=10**8,
                save_every_sec=1,
                keep_checkpoints=2,
                experiment_summaries_interval=10**6,
            ),
        )
        run.wait_for("Saved checkpoints")
        run.wait_for("Fps is")
        filled = fill(exp_dir)
        before = sorted(p.name for p in ckpt_dir.glob("checkpoint_*.pth"))
        assert filled > 0 and before, (filled, before)

        assert run.wait(timeout=120) == 1
        output = run.output()
        assert f"Cannot write checkpoint {ckpt_dir}/checkpoint_" in output, output
        assert "No space left on device" in output, output
        assert "the previous checkpoints in" in output and "are kept" in output, output
        run.assert_clean()

        # No temporary file left; the checkpoints written before the disk filled are all still there and intact.
        names = sorted(p.name for p in ckpt_dir.iterdir())
        assert [n for n in names if ".tmp-" in n] == [], names
        kept = sorted(p.name for p in ckpt_dir.glob("checkpoint_*.pth"))
        assert kept and set(kept) >= set(before[-1:]), (before, kept)
        for name in kept:
            assert load_checkpoint_file(ckpt_dir / name)["env_steps"] > 0
        cfg, state = run.load_experiment()
        assert cfg.experiment == "fills" and state is not None and state["env_steps"] > 0
        os.remove(exp_dir / "filler.bin")


def test_dev_shm_too_small_for_the_buffers_is_detected_before_any_allocation(training_process, run_config, tmp_path):
    free = shutil.disk_usage("/dev/shm").free
    # Sync mode, 2 workers x 4 envs = 8 trajectories of `rollout` steps, > 50 bytes per CartPole step:
    # a rollout this long needs more than twice what /dev/shm has free.
    rollout = -(-2 * free // (8 * 50))
    cfg = run_config(SMALL, num_envs_per_worker=4, async_rl=False, rollout=rollout, batch_size=rollout)
    run = training_process("shm", {**cfg, "train_for_env_steps": 10_000})

    assert run.wait() == 1
    output = run.output()
    assert "The trajectory buffers of this run need" in output, output
    assert f"/dev/shm has only {free / 2**30:.1f} GiB free" in output or "/dev/shm has only" in output, output
    assert "docker run --shm-size=" in output, output
    assert "fewer --num_workers / --num_envs_per_worker or a shorter --rollout" in output, output
    assert f"rollout ({rollout})" in output, output
    assert_no_workers_started(run)
    run.assert_clean()
    saved, state = run.load_experiment()  # config.json is whole; no training happened, so no checkpoint
    assert saved.rollout == rollout and state is None


# TensorBoard's writer thread dies of the OSError (which pytest reports) before handing it to the caller.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_summaries_on_a_full_disk_fail_naming_the_directory(tmp_path):
    from sf_config import make_cfg
    from sf_runtime.storage import StorageError, SummaryWriter

    with tmpfs_at(tmp_path / "tb", "64k"):
        cfg = make_cfg(env="CartPole-v1", experiment="tb", train_dir=str(tmp_path))
        writer = SummaryWriter(cfg, 0)
        fill(tmp_path / "tb")
        with pytest.raises(StorageError, match="No space left on device") as err:
            for step in range(10_000):  # the event file's buffer reaches the disk at some point
                writer.scalars({"perf/fps": 1.0, "train/loss": 0.5}, step)
            writer.flush()
        assert f"Cannot write TensorBoard summaries to {writer.log_dir}" in str(err.value)
        writer.close()  # logs that the last events were lost, does not raise


def test_the_budget_counts_exactly_what_the_run_allocates(tmp_path):
    """The sizing arena, run through the same allocation code, adds up to the bytes the real segments take."""
    import gymnasium as gym
    import numpy as np

    from sf_config import make_cfg
    from sf_runtime.runners.parallel.heartbeat import RunState
    from sf_runtime.runners.parallel.shared_memory import SharedArena
    from sf_runtime.runners.parallel.shm_guard import SharedMemoryBudgetError, check_shm_budget, measure_shm_budget
    from sf_runtime.runners.parallel.trajectories import StepFormat, TrajectoryLayout, allocate_trajectories

    layout = TrajectoryLayout(num_workers=2, num_splits=2, rows_per_split=3, buffers_per_split=2, rollout=64)
    obs_space = gym.spaces.Dict({"obs": gym.spaces.Box(0, 255, (3, 8, 8), np.uint8)})

    def allocate(arena):
        allocate_trajectories(arena, layout, obs_space, StepFormat(((), "int64"), 2, 1))
        RunState.allocate(arena, 5)

    budget = measure_shm_budget(allocate)
    arena = SharedArena()
    try:
        allocate(arena)
        real = sum(os.stat(f"/dev/shm/{name}").st_size for name in arena.leftover_segments())
    finally:
        arena.unlink_all()
    assert budget.needed == real > 0
    assert budget.largest == (f"({layout.num_rows}, 65, 3, 8, 8) uint8", layout.num_rows * 65 * 192)

    # Against a directory with less room (a small tmpfs): refused, with both sizes and the fixes.
    cfg = make_cfg(env="CartPole-v1", num_workers=2, num_envs_per_worker=6, rollout=64)
    with tmpfs_at(tmp_path / "shm", "4m"):
        with pytest.raises(SharedMemoryBudgetError) as err:
            check_shm_budget(cfg, allocate, shm_dir=str(tmp_path / "shm"))
        assert f"{tmp_path / 'shm'} has only 4.0 MiB free" in str(err.value)
        assert f"({budget.needed:,} bytes of arrays" in str(err.value) and "--shm-size=" in str(err.value)
        assert list((tmp_path / "shm").iterdir()) == []  # nothing was created there
