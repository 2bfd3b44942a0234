"""SIGKILL of the processes of real parallel runs: rollout workers are replaced, other deaths stop the run cleanly.

- a rollout worker killed by a signal is named, replaced (its shared memory comes through file descriptors the main
  process kept, its slots through the shared ownership flags), and the run reaches its goal; in async and in sync
  mode (where the learner waits for one rollout of every split, so a lost worker would stall it);
- more than MAX_WORKER_REPLACEMENTS deaths of one worker index stop the run (exit 1, checkpoint);
- a killed inference worker stops the run within seconds (exit 1, named, checkpoint saved by the living learner);
- a killed learner stops the run (exit 1, named; the checkpoints saved before stay intact and load).

The main process logs ``Started <label> (pid N)`` for every child it starts: that is how the tests find their target.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from sf_runtime.runners.parallel.shared_memory import SharedArena
from sf_runtime.runners.parallel.slot_ownership import SlotOwnership
from sf_runtime.runners.parallel.trajectories import TrajectoryLayout

SMALL = dict(  # over conftest's run_config
    num_envs_per_worker=4,
    batch_size=64,
    train_for_seconds=180,  # a stalled run ends here, short of train_for_env_steps: the tests would see it
)


def test_a_child_started_after_the_unlink_maps_the_segments_through_inherited_fds():
    sys.path.insert(0, str(Path(__file__).parent))
    import worker_death_helpers

    arena = SharedArena()
    try:
        array = arena.create((4,), "float64")
        arena.unlink_all()
        assert not os.path.exists(f"/dev/shm/{array.spec.name}")
        proc = mp.get_context("forkserver").Process(
            target=worker_death_helpers.write_through_inherited_fds, args=(array.spec, arena.segment_fds(), 2.5)
        )
        proc.start()
        proc.join(60)
        assert proc.exitcode == 0
        np.testing.assert_array_equal(array.numpy, np.full(4, 2.5))
        assert arena.leftover_segments() == []
    finally:
        arena.unlink_all()
        arena.close_fds()
        sys.path.remove(str(Path(__file__).parent))


def test_slot_ownership_flags_and_incarnations():
    arena = SharedArena()
    try:
        layout = TrajectoryLayout(num_workers=2, num_splits=2, rows_per_split=4, buffers_per_split=3, rollout=8)
        slots = SlotOwnership.allocate(arena, layout, num_policies=2)
        seen_by_child = SlotOwnership(slots.handle)  # mapped by name, as a child does
        assert seen_by_child.free_slots(1, 0) == [0, 1, 2]
        slots.hold(1, 0, 1, [0, 1])
        assert seen_by_child.is_held(1, 0, 1) and seen_by_child.free_slots(1, 0) == [0, 2]
        seen_by_child.release(1, 0, 1, 0)
        assert slots.is_held(1, 0, 1)  # policy 1 still holds it
        seen_by_child.release(1, 0, 1, 1)
        assert slots.free_slots(1, 0) == [0, 1, 2] and slots.free_slots(0, 0) == [0, 1, 2]
        assert slots.new_incarnation(1) == 1 and seen_by_child.incarnation(1) == 1 and slots.incarnation(0) == 0
    finally:
        arena.unlink_all()
        arena.close_fds()


def child_pid(run, label: str, after: int = 0) -> int:
    """The pid of the newest process started as ``label`` (searching the output from offset ``after``)."""
    pids = [int(m) for m in re.findall(rf"Started {re.escape(label)} \(pid (\d+)\)", run.output()[after:])]
    assert pids, f"no process {label!r} started:\n{run.output()}"
    assert pids[-1] in {p.pid for p in run.children()}, f"{label} (pid {pids[-1]}) is not running:\n{run.output()}"
    return pids[-1]


def wait_until_sampling(run) -> None:
    """Wait until the run has started its processes, and a moment more (it samples then)."""
    run.wait_for("Startup took")
    time.sleep(1.0)


def kill_and_wait_for_replacement(run, label: str, nth: int) -> tuple[float, float]:
    """SIGKILL the running rollout worker ``label``, wait until its replacement sends frames.

    Returns:
        (seconds until the death was reported, seconds until the replacement sampled), from the kill.
    """
    pid = child_pid(run, label)
    mark = len(run.output())
    killed = time.monotonic()
    psutil.Process(pid).kill()
    run.wait_for(f"{label} (pid {pid}) was killed by signal SIGKILL; starting a replacement ({nth}/3)")
    detected = time.monotonic() - killed
    run.wait_for(f"{label} (replacement {nth}) is sampling")
    sampling = time.monotonic() - killed
    assert child_pid(run, label, after=mark) != pid
    return detected, sampling


def kill_and_wait_for_the_end(run, label: str) -> tuple[str, float]:
    """SIGKILL the child ``label``, which stops the run: it exits with 1 and names the killed child.

    Returns:
        (the run's output, seconds from the kill to the exit).
    """
    pid = child_pid(run, label)
    killed = time.monotonic()
    psutil.Process(pid).kill()
    code = run.wait(timeout=150)  # the wind-down watchdog bounds it at 45 s; the rest is a busy machine's slack
    seconds = time.monotonic() - killed

    out = run.output()
    assert code == 1, out
    assert f"{label} (pid {pid}) was killed by signal SIGKILL" in out
    return out, seconds


def test_killed_rollout_workers_are_replaced_and_the_run_reaches_its_goal(training_process, run_config):
    goal = 100_000
    run = training_process("replace_async", run_config(SMALL, train_for_env_steps=goal))
    wait_until_sampling(run)

    # Both original workers die, one after the other: the rest of the run samples with replacements only.
    seconds0 = kill_and_wait_for_replacement(run, "rollout_worker 0", 1)
    seconds1 = kill_and_wait_for_replacement(run, "rollout_worker 1", 1)
    code = run.wait(timeout=180)

    out = run.output()
    assert code == 0, out
    assert "Rollout workers replaced: 2." in out  # the final report counts them
    run.assert_clean()
    _cfg, state = run.load_experiment()
    assert state is not None and state["env_steps"] >= goal, state and state["env_steps"]
    reported, sampling = f"{seconds0[0]:.1f}s/{seconds1[0]:.1f}s", f"{seconds0[1]:.1f}s/{seconds1[1]:.1f}s"
    print(f"async: 2 kills, both replaced (reported after {reported}, sampling again after {sampling}), goal reached")


def test_sync_mode_replaces_a_killed_worker_without_stalling_the_round(training_process, run_config):
    goal = 60_000
    run = training_process("replace_sync", run_config(SMALL, async_rl=False, train_for_env_steps=goal))
    wait_until_sampling(run)

    seconds = kill_and_wait_for_replacement(run, "rollout_worker 1", 1)
    code = run.wait(timeout=180)

    out = run.output()
    assert code == 0, out
    run.assert_clean()
    _cfg, state = run.load_experiment()
    # every training round of the sync learner needs a rollout of worker 1: the replacement gave them
    assert state is not None and state["env_steps"] >= goal, state and state["env_steps"]
    reported, sampling = seconds
    print(f"sync: 1 kill, replaced (seen after {reported:.1f}s, sampling again after {sampling:.1f}s): goal reached")


@pytest.mark.slow
def test_a_worker_that_keeps_dying_stops_the_run_after_the_replacement_budget(training_process, run_config):
    run = training_process("replace_budget", run_config(SMALL, train_for_env_steps=10**9))
    wait_until_sampling(run)
    for nth in (1, 2, 3):
        kill_and_wait_for_replacement(run, "rollout_worker 0", nth)
    psutil.Process(child_pid(run, "rollout_worker 0")).kill()
    code = run.wait(timeout=60)

    out = run.output()
    assert code == 1, out
    assert "rollout_worker 0" in out and "was killed by signal SIGKILL" in out
    assert "it was replaced 3 times already" in out
    assert "Saving a checkpoint after the failure" in out
    run.assert_clean()
    _cfg, state = run.load_experiment()
    assert state is not None and state["env_steps"] > 0


def test_killed_inference_worker_stops_the_run_and_saves(training_process, run_config):
    run = training_process("kill_inference", run_config(SMALL, train_for_env_steps=10**9))
    wait_until_sampling(run)

    out, seconds = kill_and_wait_for_the_end(run, "inference_worker p0#0")
    assert "Saving a checkpoint after the failure" in out
    run.assert_clean()
    _cfg, state = run.load_experiment()
    assert state is not None and state["env_steps"] > 0 and state["policy_version"] > 0
    print(f"inference worker killed: exit 1 {seconds:.1f}s later, checkpoint at {state['env_steps']} env steps")


def test_killed_learner_stops_the_run_and_earlier_checkpoints_load(training_process, run_config):
    run = training_process("kill_learner", run_config(SMALL, train_for_env_steps=10**9, save_every_sec=2))
    run.wait_for("Fps is")
    deadline = time.monotonic() + 60
    ckpt_dir = run.tmp_path / "kill_learner" / "checkpoint_p0"
    while not list(ckpt_dir.glob("checkpoint_*")):
        assert time.monotonic() < deadline and run.proc.poll() is None, run.output()
        time.sleep(0.2)

    _out, seconds = kill_and_wait_for_the_end(run, "learner p0")
    run.assert_clean()
    _cfg, state = run.load_experiment()
    assert state is not None and state["env_steps"] > 0
    print(f"learner killed: exit 1 {seconds:.1f}s later, last checkpoint at {state['env_steps']} env steps")
