"""Scaling benchmark of the distributed runner: FPS with 1 and 2 sampler actors, bytes per env step, learner ceiling.

Run from the repository root, as root (it confines Ray to loopback by re-running itself in a network namespace of
its own, ``unshare --net``; see the README of sf-runtime)::

    uv run python benchmarks/bench_distributed.py                     # CartPole-v1 and the 84x84 pixel env
    uv run python benchmarks/bench_distributed.py --envs pixels --seconds 30
    uv run python benchmarks/bench_distributed.py --address HEAD:6379  # an existing cluster, no namespace

Without ``--address`` it starts a local two-node cluster (a head and a second ``ray start --address`` node, one
CPU each). For each env it measures

(a) the training FPS (env frames per second after ``--warmup`` seconds, over ``--seconds``) of the distributed
    runner with 1 and with 2 sampler actors, and their ratio (the scaling of sampling);
(b) the bytes shipped per env step: rollout payloads (samplers to learner) and weights (learner to samplers);
(c) the learner's ceiling: samples per second of ``Learner.train`` alone, on one thread, with the same model and batch
    on synthetic data; and the 2-actor FPS as a share of it (how close sampling brings the run to what one learner
    can consume: the ratio that says whether more samplers would help, or a learner group is needed).

``benchmarks/SCALING.md`` turns these figures into a throughput model for N nodes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
INSIDE = "SF_BENCH_IN_LOOPBACK_NETNS"
RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",
    "RAY_AUTH_MODE": "disabled",
    "MASTER_ADDR": "127.0.0.1",
}
PORT = 6379


def rerun_confined() -> None:
    """Re-run this script in a network namespace with only loopback (needs root and ``unshare``)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        sys.exit("a local cluster is confined to loopback with unshare --net, which needs root; or pass --address")
    command = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", sys.executable, *sys.argv]
    env = {**os.environ, **RAY_ENV, INSIDE: "1", "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path[1:]])}
    sys.exit(subprocess.call(command, env=env))


class LocalCluster:
    """A head and a second node on 127.0.0.1, one CPU each (``ray start --block``), stopped at the end."""

    def __init__(self) -> None:
        self.temp_dir = tempfile.mkdtemp(prefix="sfbench", dir="/tmp")
        self.procs: list[subprocess.Popen] = []

    def _start(self, name: str, args: list[str]) -> None:
        out = Path(self.temp_dir) / f"{name}.out"
        common = ["--block", "--node-ip-address=127.0.0.1", "--num-cpus=1", "--object-store-memory=200000000"]
        ray = str(Path(sys.executable).with_name("ray"))
        with open(out, "w") as stream:
            proc = subprocess.Popen(
                [ray, "start", *args, *common, "--disable-usage-stats"],
                stdout=stream,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        deadline = time.monotonic() + 240
        while "Ray runtime started" not in out.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start {name} failed:\n{out.read_text(errors='replace')}")
            time.sleep(0.2)

    def start(self) -> str:
        self._start("head", ["--head", f"--port={PORT}", "--include-dashboard=false", f"--temp-dir={self.temp_dir}"])
        self._start("node2", [f"--address=127.0.0.1:{PORT}"])
        return f"127.0.0.1:{PORT}"

    def stop(self) -> None:
        import psutil

        sessions = {proc.pid for proc in self.procs}
        procs = []
        for proc in psutil.process_iter():
            try:
                if os.getsid(proc.pid) in sessions:
                    procs.append(proc)
            except (psutil.Error, ProcessLookupError, PermissionError):
                continue
        for proc in procs:
            proc.terminate()
        _gone, alive = psutil.wait_procs(procs, timeout=10)
        for proc in alive:
            proc.kill()
        for proc in self.procs:
            proc.wait(timeout=30)
        shutil.rmtree(self.temp_dir, ignore_errors=True)


ENVS = {
    # env name, cfg overrides: CartPole as in the learning tests; the pixel env with sf's default conv encoder
    "cartpole": ("CartPole-v1", dict(encoder_mlp_layers=[64, 64], num_envs_per_worker=16, batch_size=512)),
    "pixels": ("bench_pixels", dict(num_envs_per_worker=8, batch_size=256)),
}


def base_cfg(env: str, address: str, overrides: dict, num_actors: int, steps: int, train_dir: str):
    from sf_config import make_cfg

    return make_cfg(
        env=env,
        distributed="ray",
        ray_address=address,
        num_sampler_actors=num_actors,
        device="cpu",
        num_workers=1,
        worker_num_splits=1,
        rollout=32,
        num_batches_per_epoch=1,
        num_epochs=1,
        use_rnn=False,
        train_for_env_steps=steps,
        train_dir=train_dir,
        experiment=f"bench_{env}_{num_actors}",
        restart_behavior="overwrite",
        save_every_sec=3600,
        log_to_file=False,
        **overrides,
    )


def measure_fps(cfg, warmup: float, seconds: float) -> dict:
    """Train with the distributed runner; FPS over ``seconds`` after ``warmup``, and the bytes shipped."""
    from sf_runtime.runners import RunObserver
    from sf_runtime.runners.distributed import DistributedRunner

    marks: dict[str, tuple[float, int]] = {}

    class Window(RunObserver):
        def on_start(self, run):
            self.t0 = time.monotonic()

        def on_iteration(self, run):
            now = time.monotonic() - self.t0
            if "start" not in marks and now >= warmup:
                marks["start"] = (time.monotonic(), run.total_env_steps)
            if "start" in marks and now >= warmup + seconds:
                marks["end"] = (time.monotonic(), run.total_env_steps)
                run.request_stop("benchmark window done")

    runner = DistributedRunner(cfg, [Window()])
    status = runner.run()
    if status != 0 or "end" not in marks:
        raise RuntimeError(f"the benchmark run ended with status {status} before its window")
    (t0, s0), (t1, s1) = marks["start"], marks["end"]
    steps = max(runner.env_steps_shipped, 1)
    return {
        "fps": (s1 - s0) / (t1 - t0),
        "rollout_bytes": runner.bytes_shipped / steps,
        "weight_bytes": runner.weight_bytes / steps,
    }


def learner_ceiling(cfg, seconds: float) -> float:
    """Samples per second of ``Learner.train`` alone on one thread, on synthetic batches of the run's shape."""
    import torch

    from sf_runtime.envs import make_env_vector
    from sf_runtime.learning import Learner
    from sf_runtime.runners.serial_rollouts import SerialRolloutCollector

    torch.set_num_threads(1)
    vector = make_env_vector(cfg, 0, 0, cfg.batch_size // cfg.rollout, False)
    learner = Learner(cfg, vector.observation_space, vector.action_space, device="cpu")
    collector = SerialRolloutCollector(
        vector, {0: learner.actor_critic}, lambda _p: 0, [0] * vector.num_agents_total, cfg.rollout, torch.device("cpu")
    )
    batch = collector.collect()[0][0]
    vector.close()
    samples = cfg.batch_size * cfg.num_batches_per_epoch
    learner.train(batch)
    calls, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        batch["policy_version"].fill_(learner.policy_version)
        learner.train(batch)
        calls += 1
    return calls * samples / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", default=None, help="an existing Ray cluster (default: a local two-node one)")
    parser.add_argument("--envs", default="cartpole,pixels")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--learner-seconds", type=float, default=8.0)
    args = parser.parse_args()
    if args.address is None and os.environ.get(INSIDE) != "1":
        rerun_confined()
    import bench_envs

    bench_envs.register_bench_envs()
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs")
    cluster = None
    address = args.address
    if address is None:
        cluster = LocalCluster()
        address = cluster.start()
    try:
        with tempfile.TemporaryDirectory() as train_dir:
            for key in args.envs.split(","):
                env, overrides = ENVS[key]
                report(env, address, overrides, args, train_dir)
    finally:
        if cluster is not None:
            cluster.stop()


def report(env: str, address: str, overrides: dict, args, train_dir: str) -> None:
    results = {}
    for actors in (1, 2):
        cfg = base_cfg(env, address, overrides, actors, 10**9, train_dir)
        results[actors] = measure_fps(cfg, args.warmup, args.seconds)
    ceiling = learner_ceiling(base_cfg(env, address, overrides, 1, 10**9, train_dir), args.learner_seconds)
    one, two = results[1], results[2]
    print(f"\n== {env} ({overrides}) ==")
    print(f"FPS, 1 sampler actor:            {one['fps']:10,.0f}")
    print(f"FPS, 2 sampler actors:           {two['fps']:10,.0f}   scaling x{two['fps'] / one['fps']:.2f}")
    print(f"rollout bytes per env step:      {two['rollout_bytes']:10,.1f}")
    print(f"weight bytes per env step:       {two['weight_bytes']:10,.1f}   (2 actors)")
    print(f"learner ceiling (train only):    {ceiling:10,.0f} samples/s on one thread")
    print(f"2-actor FPS / learner ceiling:   {two['fps'] / ceiling:10.2f}")
    needed = (two["rollout_bytes"] + two["weight_bytes"]) * ceiling / 1e6
    print(f"network at the learner ceiling:  {needed:10,.1f} MB/s into the learner")


if __name__ == "__main__":
    main()
