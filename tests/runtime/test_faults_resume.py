"""Fault injection: SIGKILL of the whole process tree at random moments, then resume (issue 7, item 5).

One experiment is trained by a sequence of runs with ``restart_behavior=resume``; each but the last is killed with
SIGKILL sent to its whole process group, at a moment drawn from a seeded schedule (printed; set SF_FAULT_SEED and
SF_FAULT_KILLS to replay or lengthen it):

* ``early``: a random delay after the process started (imports, config.json, experiment directory, env probe);
* ``startup``: after the shared memory was allocated, while the worker processes start (segments still named in
  /dev/shm, so the kill leaks them);
* ``training``: while sampling and training;
* ``checkpoint``: during a checkpoint write (``save_every_sec=1``): the test watches the checkpoint directory and kills
  the run the moment a write's temporary file appears;
* ``shutdown``: once ``train_for_env_steps`` is reached (stopping sampling, final checkpoint, joining children).

Once, a checkpoint file is damaged (truncated) between two runs, as a bad disk or copy would.

After every kill: no process of the run survives; config.json is intact; every checkpoint under a final name loads and
matches its digest (no torn file), the damaged one excepted until the next run sets it aside. The next run resumes
exactly from the newest intact checkpoint (so env steps never go back beyond it), falling back past the damaged one,
and removes the /dev/shm segments the killed runs left. A final run trains to a goal and exits 0, leaving nothing.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest

from sf_config import Config
from sf_runtime.runners.parallel.shm_guard import sweep_stale_segments
from sf_runtime.storage import CheckpointError, load_checkpoint_file

EXPERIMENT = "killed"
CFG = dict(  # over conftest's run_config
    worker_num_splits=1,
    encoder_mlp_layers=[128, 128],
    save_every_sec=1,
    keep_checkpoints=2,
    restart_behavior="resume",
    train_for_env_steps=10**9,
)
MOMENTS = ("early", "startup", "training", "checkpoint", "shutdown")
_RESUMED = re.compile(r"Policy 0: resumed from checkpoint at (\d+) env steps")
_SWEPT = re.compile(r"Removed (\d+) stale shared-memory segment\(s\)")


def kill_schedule(rng: random.Random, kills: int) -> list[tuple[str, float]]:
    """Every moment at least once (when there are enough kills), in random order, each with a random delay."""
    moments = list(MOMENTS) + [rng.choice(MOMENTS) for _ in range(max(0, kills - len(MOMENTS)))]
    moments = moments[:kills]
    rng.shuffle(moments)
    delays = {"early": (0.3, 4.0), "startup": (0.0, 1.5), "training": (0.3, 3.0), "checkpoint": (0.0, 0.0)}
    return [(m, round(rng.uniform(*delays.get(m, (0.0, 0.6))), 2)) for m in moments]


def inventory(ckpt_dir):
    """``(intact: name -> env_steps, damaged names, temporary files)`` of the regular checkpoints."""
    intact, damaged = {}, []
    for path in sorted(ckpt_dir.glob("checkpoint_*.pth")):
        try:
            intact[path.name] = int(load_checkpoint_file(path)["env_steps"])
        except CheckpointError:
            damaged.append(path.name)
    temps = sorted(p.name for p in ckpt_dir.glob(".*.tmp-*")) if ckpt_dir.is_dir() else []
    return intact, damaged, temps


def segments_of(pids) -> list[str]:
    prefixes = tuple(f"sf_{pid}_" for pid in pids)
    return sorted(name for name in os.listdir("/dev/shm") if name.startswith(prefixes))


def wait_for_moment(run, moment: str, delay: float, ckpt_dir) -> str:
    """Wait until the kill moment; returns how it was reached (for the report)."""
    markers = {
        "startup": "Parallel run:",
        "training": "processes started in",
        "shutdown": "Reached train_for_env_steps",
    }
    if moment == "checkpoint":
        # Watch the checkpoint directory and kill as soon as a write is under way (its temporary file exists).
        run.wait_for("Saved checkpoints", timeout=120)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if any(".tmp-" in name for name in os.listdir(ckpt_dir)):
                return "during a checkpoint write"
        return "no write seen within 3s"
    if moment in markers:
        run.wait_for(markers[moment], timeout=120)
    time.sleep(delay)
    return f"+{delay}s"


@pytest.mark.slow
def test_sigkill_of_the_whole_tree_at_random_moments_then_resume(training_process, run_config, tmp_path):
    seed = int(os.environ.get("SF_FAULT_SEED", "7"))
    kills = int(os.environ.get("SF_FAULT_KILLS", "6"))
    rng = random.Random(seed)
    schedule = kill_schedule(rng, kills)
    print(f"\nSIGKILL schedule (SF_FAULT_SEED={seed}): {schedule}")
    exp_dir = tmp_path / EXPERIMENT
    ckpt_dir = exp_dir / "checkpoint_p0"
    killed_pids: list[int] = []
    damaged_name: str | None = None
    damage_pending = False  # damaged, and no run has loaded the checkpoints since
    floor = 0  # env steps of the newest intact checkpoint: a resumed run may never start below it
    report = []

    def check_resume_point(run, expected: int | None) -> int | None:
        """The env steps the run resumed from (None if it did not get that far); must be the newest intact one."""
        output = run.output()
        if (m := _RESUMED.search(output)) is not None:
            assert expected is not None and int(m.group(1)) == expected, (expected, output)
            return int(m.group(1))
        if "no checkpoint to resume from" in output:
            assert expected is None, (expected, output)
        return None

    for round_index, (moment, delay) in enumerate(schedule):
        intact, _damaged, _temps = inventory(ckpt_dir)
        # Once two checkpoints exist, damage the newest: the next run must notice and fall back to the other one.
        if damaged_name is None and len(intact) >= 2 and moment != "early":
            damaged_name = max(intact, key=lambda n: intact[n])
            path = ckpt_dir / damaged_name
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
            del intact[damaged_name]
            damage_pending = True
        expected = max(intact.values()) if intact else None
        cfg = run_config(CFG)
        if moment == "shutdown":
            cfg["train_for_env_steps"] = (expected or 0) + 3000
        run = training_process(EXPERIMENT, cfg)
        when = wait_for_moment(run, moment, delay, ckpt_dir)
        try:
            os.killpg(run.pid, signal.SIGKILL)
            code = run.wait(timeout=60)
            assert code == -signal.SIGKILL, code
            outcome = "killed"
        except ProcessLookupError:  # the run finished before the kill (a late shutdown moment)
            assert run.wait(timeout=60) == 0, run.output()
            outcome = "exited 0 first"
        killed_pids.append(run.pid)
        output = run.output()

        # Nothing of the run is alive.
        _gone, alive = psutil.wait_procs(run.session_processes(), timeout=20)
        assert alive == [], f"round {round_index} ({moment}): processes survive SIGKILL: {alive}\n{output}"

        # What the run saw at its start: the newest intact checkpoint (past the damaged one); earlier leaks swept.
        resumed = check_resume_point(run, expected)
        if damage_pending and resumed is not None:
            assert "Falling back to the previous intact checkpoint" in output, output
            assert (ckpt_dir / (damaged_name + ".corrupt")).exists()
            damage_pending = False
        if "Parallel run:" in output:  # it swept /dev/shm before allocating
            assert segments_of(killed_pids[:-1]) == [], output
        swept = sum(int(n) for n in _SWEPT.findall(output))

        # What it left: config.json whole, no torn checkpoint under a final name, steps never below the floor.
        config_path = exp_dir / "config.json"
        if config_path.exists():
            saved = json.loads(config_path.read_text())
            assert Config.from_dict(saved).experiment == EXPERIMENT
        intact, damaged, temps = inventory(ckpt_dir)
        assert set(damaged) <= {damaged_name}, f"round {round_index} ({moment}): torn checkpoints {damaged}"
        newest = max(intact.values()) if intact else 0
        assert newest >= (expected or 0), (newest, expected)
        floor = max(floor, newest) if damaged_name is None else newest
        leaked = segments_of([run.pid])
        report.append(
            f"{round_index}: {moment} {when} -> {outcome}; resumed from {resumed}; swept {swept} segment(s) of "
            f"earlier runs; left {len(intact)} intact checkpoint(s) (newest {newest} env steps), {len(temps)} temp "
            f"file(s), {len(leaked)} /dev/shm segment(s)"
        )
        print(report[-1])

    # The final run resumes from the newest intact checkpoint and trains to its goal.
    intact, _damaged, _temps = inventory(ckpt_dir)
    expected = max(intact.values()) if intact else None
    goal = (expected or 0) + 4000
    run = training_process(EXPERIMENT, run_config(CFG, train_for_env_steps=goal))
    assert run.wait(timeout=180) == 0, run.output()
    run.assert_clean()
    output = run.output()
    assert check_resume_point(run, expected) == expected
    assert not damage_pending or "Falling back to the previous intact checkpoint" in output, output
    assert segments_of(killed_pids) == [], output
    swept = sum(int(n) for n in _SWEPT.findall(output))
    intact, damaged, temps = inventory(ckpt_dir)
    assert damaged == [] and temps == [], (damaged, temps)  # the damaged file was set aside, temp files removed
    assert list(exp_dir.glob(".*.tmp-*")) == []  # nor is a config.json write of a killed run left over
    assert damaged_name is None or (ckpt_dir / (damaged_name + ".corrupt")).exists()
    saved, state = run.load_experiment()
    assert saved.experiment == EXPERIMENT and state["env_steps"] >= goal >= floor
    report.append(f"final: resumed from {expected}, swept {swept}, trained to {state['env_steps']} (goal {goal})")
    print(report[-1])
    print("damaged on purpose:", damaged_name)


def test_sweep_removes_segments_of_dead_runs_only(tmp_path):
    """The sweep on fake segment files: dead, zombie (killed, not reaped), live, and reused-pid creators."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # not waited for: a zombie once it exits
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        deadline = time.monotonic() + 30
        while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            time.sleep(0.05)
        names = {
            "dead": f"sf_{dead.pid}_feedbeef_0",
            "zombie": f"sf_{zombie.pid}_feedbeef_1",
            "live": f"sf_{live.pid}_feedbeef_0",
            "reused": f"sf_{live.pid}_0badcafe_3",
            "other": f"sf_not_ours_{dead.pid}",
        }
        paths = {key: tmp_path / name for key, name in names.items()}
        for path in paths.values():
            path.write_bytes(b"\0" * 4096)
        hour_ago = time.time() - 3600  # written an hour before the process now holding this pid started
        os.utime(paths["reused"], (hour_ago, hour_ago))

        removed = sweep_stale_segments(str(tmp_path))

        assert sorted(removed) == sorted([names["dead"], names["zombie"], names["reused"]])
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([names["live"], names["other"]])
    finally:
        live.kill()
        live.wait()
        zombie.wait()
