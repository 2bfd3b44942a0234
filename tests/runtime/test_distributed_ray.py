"""The distributed runner (``distributed=ray``) on a two-node Ray cluster on loopback (marker ``ray``; CI runs
``pytest -m ray``).

Each test re-runs itself in a network namespace with only loopback (the ``loopback_netns`` fixture), starts a head
node and a second node (``ray start --address``), one CPU each, each in a session of its own, and stops both at the
end. CartPole-v1 is trained as in the serial learning tests (16 envs in all, rollouts of 32, 2 minibatches of 256, 4
epochs): a random policy averages about 22, the tests ask for 450.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sf_config import make_cfg
from sf_runtime import enjoy, run_rl
from sf_runtime.runners import RunObserver

pytestmark = pytest.mark.ray

GOAL = 450.0
PORT = 6379  # inside the test's own network namespace nothing else listens
RAY = str(Path(sys.executable).with_name("ray"))
CARTPOLE = dict(
    env="CartPole-v1",
    distributed="ray",
    ray_address=f"127.0.0.1:{PORT}",
    device="cpu",
    num_workers=1,
    worker_num_splits=1,
    rollout=32,
    batch_size=256,
    num_batches_per_epoch=2,
    num_epochs=4,
    learning_rate=1e-3,
    use_rnn=False,
    encoder_mlp_layers=[64, 64],
    stats_avg=100,
    seed=1,
    train_for_env_steps=1_000_000,  # the runs stop at the goal long before; this only bounds a run that fails to learn
)


class LocalCluster:
    """A head node and a second node on 127.0.0.1, one CPU each, started with ``ray start --block``."""

    def __init__(self) -> None:
        self.temp_dir = tempfile.mkdtemp(prefix="sfray", dir="/tmp")  # short: Ray's socket paths must fit
        self.procs: list[subprocess.Popen] = []
        self.outputs: list[Path] = []

    def _start(self, name: str, args: list[str]) -> None:
        out = Path(self.temp_dir) / f"{name}.out"
        self.outputs.append(out)
        common = ["--block", "--node-ip-address=127.0.0.1", "--num-cpus=1", "--object-store-memory=100000000"]
        with open(out, "w") as stream:
            proc = subprocess.Popen(
                [RAY, "start", *args, *common, "--disable-usage-stats"],
                stdout=stream,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        deadline = time.monotonic() + 240
        while "Ray runtime started" not in out.read_text(errors="replace"):
            assert proc.poll() is None, f"ray start {name} ended:\n{out.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"ray start {name} did not start:\n{out.read_text(errors='replace')}"
            time.sleep(0.2)

    def start(self) -> LocalCluster:
        self._start("head", ["--head", f"--port={PORT}", "--include-dashboard=false", f"--temp-dir={self.temp_dir}"])
        self._start("node2", [f"--address=127.0.0.1:{PORT}"])
        return self

    def sessions(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    def processes(self) -> list[psutil.Process]:
        """Every live process of the two nodes (raylets, GCS, workers and actors)."""
        found = []
        for proc in psutil.process_iter():
            with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError):
                if os.getsid(proc.pid) in self.sessions() and proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc)
        return found

    def actors(self, name: str) -> list[psutil.Process]:
        """The processes of the actors of a class (Ray titles them ``ray::<Class>...``)."""
        found = []
        for proc in self.processes():
            with contextlib.suppress(psutil.Error):
                if any(f"ray::{name}" in part for part in proc.cmdline()):
                    found.append(proc)
        return found

    def wait_gone(self, name: str, timeout: float = 60.0) -> list[psutil.Process]:
        """Wait until no actor process of a class is left (``ray.kill`` returns before the process exits)."""
        deadline = time.monotonic() + timeout
        while self.actors(name) and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.actors(name)

    def stop(self) -> list[psutil.Process]:
        """Stop both nodes; the processes that survive (none expected)."""
        procs = self.processes()
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        _gone, alive = psutil.wait_procs(procs, timeout=10)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        for proc in self.procs:
            proc.wait(timeout=30)
        shutil.rmtree(self.temp_dir, ignore_errors=True)  # the nodes' session logs
        return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture
def cluster(request):
    """The loopback two-node cluster (inside the namespace only: call it after ``loopback_netns``)."""
    torch.set_num_threads(1)
    cluster = LocalCluster().start()
    yield cluster
    cluster.stop()


class StopAtGoal(RunObserver):
    """Stops the run once the average reward over 100 episodes reaches the goal."""

    def on_iteration(self, run):
        reward = run.mean_reward(0)
        if reward is not None and reward >= GOAL:
            run.request_stop(f"average reward {reward:.1f} reached {GOAL}")


class KillOneSampler(RunObserver):
    """SIGKILLs one sampler actor process once the run made ``at_steps`` env steps."""

    def __init__(self, cluster: LocalCluster, at_steps: int) -> None:
        self.cluster, self.at_steps = cluster, at_steps
        self.killed: int | None = None
        self.nodes_of_actors: set[int] = set()

    def on_iteration(self, run):
        if self.killed is None and run.total_env_steps >= self.at_steps:
            actors = self.cluster.actors("SamplerActor")
            self.nodes_of_actors = {os.getsid(actor.pid) for actor in actors}  # a node's processes share a session
            victim = actors[0]
            self.killed = victim.pid
            victim.send_signal(signal.SIGKILL)


def test_two_sampler_actors_on_two_nodes_reach_450_through_a_killed_actor(request, tmp_path):
    if not request.getfixturevalue("loopback_netns"):
        return
    cluster = request.getfixturevalue("cluster")
    killer = KillOneSampler(cluster, at_steps=20_000)
    lags: list[float] = []

    class RecordLag(RunObserver):
        def on_training_step(self, run, policy_id):
            lags.append(run.stats[0].train["policy_lag_max"])

    # 8 versions per training step (4 epochs x 2 minibatches): 16 keeps rollouts of the last two steps
    cfg = make_cfg(
        **CARTPOLE,
        num_sampler_actors=2,
        num_envs_per_worker=8,
        max_policy_lag=16,
        train_dir=str(tmp_path),
        experiment="dist",
    )
    started = time.monotonic()
    status = run_rl(cfg, [StopAtGoal(), killer, RecordLag()])
    log = (tmp_path / "dist" / "sf_log.txt").read_text()
    assert status == 0, log[-4000:]
    assert f"reached {GOAL}" in log, log[-4000:]
    assert killer.killed is not None
    assert "Sampler actor " in log and "(restart 1 of max_sampler_restarts=3)" in log and " is back (pid " in log, log[
        -4000:
    ]
    assert "1 sampler restart(s)" in log
    assert "2 sampler actors" in log
    assert killer.nodes_of_actors == set(cluster.sessions())  # one actor on each node
    assert lags and max(lags) <= 16 and max(lags) > 0, lags  # measured, and bounded across the nodes
    assert cluster.wait_gone("SamplerActor") == []  # the runner killed its actors at the end
    print(f"distributed CartPole: {time.monotonic() - started:.1f} s to the goal through a killed sampler")


def test_two_learner_ranks_reach_450_with_identical_weights_after_every_update(request, tmp_path):
    if not request.getfixturevalue("loopback_netns"):
        return
    request.getfixturevalue("cluster")
    checks: list[tuple[int, float]] = []

    class RecordChecks(RunObserver):
        def on_training_step(self, run, policy_id):
            checks.append((run.training_steps, run.stats[0].train["dist/identical_weight_checks"]))

    cfg = make_cfg(
        **CARTPOLE, num_sampler_actors=1, num_envs_per_worker=16, learner_world_size=2, train_dir=str(tmp_path)
    )
    status = run_rl(cfg, [StopAtGoal(), RecordChecks()])
    log = (tmp_path / cfg.experiment / "sf_log.txt").read_text()
    assert status == 0, log[-4000:]
    assert f"reached {GOAL}" in log and "Learner group: 2 ranks (gloo)" in log, log[-4000:]
    # every update (num_epochs x num_batches_per_epoch per step) and every step's end compared the two ranks' digests
    per_step = cfg.num_epochs * cfg.num_batches_per_epoch + 1
    assert checks and all(count == step * per_step for step, count in checks), checks[-3:]
    # the experiment is an ordinary one: enjoy evaluates rank 0's checkpoint (random play averages ~22)
    eval_cfg = make_cfg(
        evaluation=True,
        env="CartPole-v1",
        experiment=cfg.experiment,
        train_dir=str(tmp_path),
        device="cpu",
        max_num_episodes=3,
        eval_deterministic=True,
    )
    status, avg_reward = enjoy(eval_cfg)
    assert status == 0 and avg_reward >= 300, avg_reward
    accumulator = EventAccumulator(str(tmp_path / cfg.experiment / ".summary" / "0"))
    accumulator.Reload()
    assert {"train/dist/rollout_bytes_per_env_step", "train/policy_lag_max"} <= set(accumulator.Tags()["scalars"])


def test_ctrl_c_saves_and_leaves_nothing_running(request, tmp_path, training_process):
    if not request.getfixturevalue("loopback_netns"):
        return
    cluster = request.getfixturevalue("cluster")
    shm_before = set(os.listdir("/dev/shm"))
    cfg = {**CARTPOLE, "num_sampler_actors": 1, "num_envs_per_worker": 16, "learner_world_size": 2}
    run = training_process("dist_ctrl_c", cfg)
    run.wait_for("Distributed async runner")
    run.wait_for("FPS ")
    assert len(cluster.actors("SamplerActor")) == 1 and len(cluster.actors("LearnerRank")) == 1
    run.send(signal.SIGINT)
    assert run.wait(timeout=300) == 2, run.output()  # a busy machine makes the wind-down of Ray actors slow
    assert "Saved checkpoints" in run.output()
    run.assert_clean()
    _cfg, state = run.load_experiment()
    assert state is not None and state["env_steps"] > 0
    assert cluster.wait_gone("SamplerActor") == [] and cluster.wait_gone("LearnerRank") == []
    assert cluster.stop() == []
    assert cluster.processes() == []
    new_segments = set(os.listdir("/dev/shm")) - shm_before
    assert not [name for name in new_segments if "ray" in name or "plasma" in name or f"sf_{run.pid}_" in name]


def test_a_lost_learner_rank_stops_the_run_with_a_checkpoint(request, tmp_path, training_process):
    if not request.getfixturevalue("loopback_netns"):
        return
    cluster = request.getfixturevalue("cluster")
    cfg = {**CARTPOLE, "num_sampler_actors": 1, "num_envs_per_worker": 16, "learner_world_size": 2}
    run = training_process("dist_rank_lost", cfg)
    run.wait_for("Distributed async runner")
    run.wait_for("FPS ")
    cluster.actors("LearnerRank")[0].send_signal(signal.SIGKILL)
    assert run.wait(timeout=180) == 1, run.output()
    out = run.output()
    assert "learner rank 1 was lost" in out or "the learner group failed" in out, out[-4000:]
    assert "Saving rank 0's checkpoint after the failure" in out, out[-4000:]
    run.assert_clean()
    _cfg, state = run.load_experiment()
    assert state is not None and state["env_steps"] > 0


def test_ctrl_c_in_a_terminal_stops_a_local_ray_instance_too(request, tmp_path, training_process):
    """Without ray_address the run starts its own Ray instance, whose processes share the run's process group: a
    terminal's Ctrl-C reaches all of them at once, and still the run saves, and nothing of it is left."""
    if not request.getfixturevalue("loopback_netns"):
        return
    cfg = {**CARTPOLE, "ray_address": None, "num_sampler_actors": 1, "num_envs_per_worker": 16}
    run = training_process("dist_local_ctrl_c", cfg)
    run.wait_for("Distributed async runner")
    run.wait_for("FPS ")
    assert any("raylet" in p.name() for p in run.children())
    run.send(signal.SIGINT, group=True)
    assert run.wait(timeout=300) == 2, run.output()  # a busy machine makes the wind-down of Ray actors slow
    assert "Saved checkpoints" in run.output()
    run.assert_clean()  # driver, raylet, GCS, agents and actors: the whole session is gone
    _cfg, state = run.load_experiment()
    assert state is not None and state["env_steps"] > 0
