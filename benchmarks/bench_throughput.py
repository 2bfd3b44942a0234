"""Throughput benchmark of sf on this machine: raw env step rates, then training FPS and memory.

Run from the repository root::

    uv run python benchmarks/bench_throughput.py                 # a few minutes
    uv run python benchmarks/bench_throughput.py --seconds 60 --reward-seconds 300   # longer, steadier figures

For each env (CartPole-v1; ``bench_pixels``, an 84x84 image env with no rendering cost; Atari Breakout when ale-py is
installed; MuJoCo HalfCheetah when mujoco is installed) it measures

(a) the raw step rate: single envs stepped in a plain Python loop, and the env's own vectorized implementation
    where there is one, with random actions, in as many processes as the training runs use rollout workers (the
    same cores);
(b) the training FPS of sf (env frames sampled per second, after startup) in a configuration equal to Sample
    Factory's defaults with the anchor's flags, and in sf's best configuration for the env; each with its ratio to
    the raw step rate of the same env implementation, the peak resident (RSS) and proportional (PSS) memory of the
    whole process tree (sampled every 0.5 s), and on CartPole the seconds until the average reward reached 450;
    on CartPole the best configurations are run twice: stepping single envs in a plain loop inside each worker
    (compared with the single-env raw rate) and stepping gymnasium's vector implementation (compared with its rate);
(c) the learner's own ceiling: samples per second of ``Learner.train`` alone on one core with the same model and
    batch size, and the training FPS as a share of it. Where the env is far cheaper than the model (CartPole's
    vector env, the pixel env on a CPU), this, not the env, bounds training FPS.

Each training configuration runs in a fresh process (this script with ``--train-one``), so memory and startup
are measured per configuration.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_envs  # the envs must be importable by name from worker processes

CARTPOLE = "CartPole-v1"
# Sample Factory 2.1.1 on this 2-core machine, CartPole-v1, --use_rnn=False --recurrence=1 --batch_size=512
# --reward_scale=0.1 (2 workers): measured by the project as the anchor. Printed for reference, not re-measured.
SF_ANCHOR_FPS = {"2x8": 6_000, "2x64": 14_500, "2x128": 17_000}
# Its peak PSS of the whole process tree, measured with this script's TreeMemory (2x8, same flags).
SF_ANCHOR_PSS_GIB = {"async runner": 1.06, "serial mode": 0.42}

ANCHOR_FLAGS = dict(use_rnn=False, recurrence=1, batch_size=512, reward_scale=0.1)

# Env frames per env.step() call: Breakout skips 4 frames per agent step. Raw rates and training FPS count frames.
FRAMES_PER_STEP = {bench_envs.BREAKOUT_ENV: 4}


def training_configs(env: str) -> list[tuple[str, str, dict]]:
    """``(label, raw-rate implementation to compare with, cfg overrides)`` of the configurations run per env."""
    if env == CARTPOLE:
        return [
            ("SF defaults, 2x8 single envs", "single", dict(**ANCHOR_FLAGS, num_workers=2, num_envs_per_worker=8)),
            (
                "SF defaults, serial mode, 2x8 single envs",
                "single",
                dict(**ANCHOR_FLAGS, num_workers=2, num_envs_per_worker=8, serial_mode=True),
            ),
            (
                "SF defaults, 2x128 batched",
                "vector",
                dict(**ANCHOR_FLAGS, num_workers=2, num_envs_per_worker=128, batched_sampling=True),
            ),
            (
                "sf best, single envs: batched plain loop, 2x256, 64x64 MLP",
                "single",
                dict(
                    **{**ANCHOR_FLAGS, "batch_size": 4096},
                    env=bench_envs.CARTPOLE_SINGLE_ENV,
                    num_workers=2,
                    num_envs_per_worker=256,
                    batched_sampling=True,
                    encoder_mlp_layers=[64, 64],
                    learning_rate=3e-4,
                    num_batches_to_accumulate=4,
                ),
            ),
            (
                "sf best: batched, 2x512, 64x64 MLP",
                "vector",
                dict(
                    **{**ANCHOR_FLAGS, "batch_size": 4096},
                    num_workers=2,
                    num_envs_per_worker=512,
                    batched_sampling=True,
                    encoder_mlp_layers=[64, 64],
                    learning_rate=3e-4,
                    num_batches_to_accumulate=4,
                ),
            ),
        ]
    if env == bench_envs.HALFCHEETAH_ENV:
        return [
            ("SF defaults, 2x8 single envs", "single", dict(**ANCHOR_FLAGS, num_workers=2, num_envs_per_worker=8)),
            (
                "sf best: 2x32, 64x64 MLP",
                "single",
                dict(
                    **{**ANCHOR_FLAGS, "batch_size": 2048},
                    num_workers=2,
                    num_envs_per_worker=32,
                    encoder_mlp_layers=[64, 64],
                ),
            ),
        ]
    pixels = dict(**ANCHOR_FLAGS, obs_scale=255.0)
    if env == bench_envs.BREAKOUT_ENV:
        pixels.update(env_frameskip=4, env_framestack=4, encoder_conv_architecture="convnet_atari")
    return [
        ("SF defaults, 2x8 single envs", "single", dict(**pixels, num_workers=2, num_envs_per_worker=8)),
        (
            "sf best: batched, 2x32, small conv (16-32 ch, 256 fc)",
            "single",
            dict(
                **{
                    **pixels,
                    "batch_size": 1024,
                    "encoder_conv_architecture": "convnet_impala",
                    "encoder_conv_mlp_layers": [256],
                },
                num_workers=2,
                num_envs_per_worker=32,
                batched_sampling=True,
            ),
        ),
    ]


# ---- (a) raw step rates ------------------------------------------------------------------------------------------


def _make_single(env: str):
    if env == bench_envs.PIXEL_ENV:
        return bench_envs.make_pixel_env(env)
    if env == bench_envs.BREAKOUT_ENV:
        return bench_envs.make_breakout_env(env)
    if env == bench_envs.HALFCHEETAH_ENV:
        return bench_envs.make_halfcheetah_env(env)
    import gymnasium as gym

    return gym.make(env)


def _make_vector(env: str, num_envs: int):
    import gymnasium as gym

    if env == bench_envs.BREAKOUT_ENV:
        return bench_envs.make_breakout_vector(num_envs)
    if env == CARTPOLE:
        return gym.make_vec(env, num_envs=num_envs, vectorization_mode="vector_entry_point")
    return None


def _step_loop(env: str, impl: str, num_envs: int, seconds: float, out: mp.Queue) -> None:
    """Step ``num_envs`` envs with random actions for ``seconds``; put the number of env steps on ``out``."""
    os.environ["OMP_NUM_THREADS"] = "1"
    rng = np.random.default_rng(0)
    steps = 0
    if impl == "vector":
        vec = _make_vector(env, num_envs)
        vec.reset(seed=0)
        n = vec.single_action_space.n
        actions = rng.integers(0, n, (64, num_envs))
        deadline = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < deadline:
            vec.step(actions[i % 64])
            i += 1
        steps = i * num_envs
        vec.close()
    else:
        envs = [_make_single(env) for _ in range(num_envs)]
        for i, e in enumerate(envs):
            e.reset(seed=i)
        space = envs[0].action_space
        space.seed(0)
        actions = [space.sample() for _ in range(4096)]
        deadline = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < deadline:
            for e in envs:
                _, _, term, trunc, _ = e.step(actions[i % 4096])
                i += 1
                if term or trunc:
                    e.reset()
        steps = i
    out.put(steps * FRAMES_PER_STEP.get(env, 1))


def raw_step_rate(env: str, impl: str, num_envs: int, processes: int, seconds: float) -> float:
    """Env steps per second of ``processes`` processes each stepping ``num_envs`` envs (same cores as training)."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_step_loop, args=(env, impl, num_envs, seconds, out)) for _ in range(processes)]
    for p in procs:
        p.start()
    total = sum(out.get(timeout=seconds + 120) for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


# ---- (b) training ------------------------------------------------------------------------------------------------


def train_one(spec: dict) -> dict:
    """Run one training configuration in this process and return its figures (called with --train-one)."""
    import torch

    torch.set_num_threads(1)
    bench_envs.register_bench_envs()
    from sf_config import make_cfg
    from sf_runtime import RunObserver, run_rl

    seconds, reward_seconds, warmup = spec["seconds"], spec["reward_seconds"], spec["warmup"]

    class Meter(RunObserver):
        def __init__(self):
            self.t0 = None
            self.first = None
            self.last = None
            self.reward_time = None

        def on_start(self, run):
            self.t0 = time.monotonic()

        def on_iteration(self, run):
            now = time.monotonic()
            elapsed = now - self.t0
            # the parallel runner counts frames as sampled; the serial one trains on each as it is sampled
            frames = run.frames.total if hasattr(run, "frames") else run.total_env_steps
            if elapsed >= warmup and self.first is None:
                self.first = (now, frames)
            if self.first is not None and elapsed <= warmup + seconds:
                self.last = (now, frames)
            reward = run.mean_reward(0)
            if self.reward_time is None and reward is not None and reward >= 450 and run.stats[0].num_episodes >= 100:
                self.reward_time = elapsed
            fps_done = elapsed >= warmup + seconds
            reward_done = not spec["to_450"] or self.reward_time is not None or elapsed >= reward_seconds
            if fps_done and reward_done:
                run.request_stop("benchmark window over")

    meter = Meter()
    cfg = make_cfg(
        env=spec["env"],
        experiment=spec["experiment"],
        train_dir=spec["train_dir"],
        device="cpu",
        restart_behavior="overwrite",
        save_every_sec=100_000,
        **spec["overrides"],
    )
    started = time.monotonic()
    status = run_rl(cfg, observers=[meter])
    fps = None
    if meter.first and meter.last and meter.last[0] > meter.first[0]:
        fps = (meter.last[1] - meter.first[1]) / (meter.last[0] - meter.first[0])
    return {
        "status": status,
        "fps": fps,
        "reward_time": meter.reward_time,
        "startup": (meter.t0 - started) if meter.t0 else None,
    }


def learner_one(spec: dict) -> dict:
    """The learner's own ceiling: samples per second of ``Learner.train`` alone, one process, one thread, on batches
    of the env's observation shape (called with --learner-one)."""
    import torch

    torch.set_num_threads(1)
    bench_envs.register_bench_envs()
    from sf_config import make_cfg
    from sf_runtime import create_env
    from sf_runtime.learning import Learner

    cfg = make_cfg(env=spec["env"], device="cpu", **spec["overrides"])
    env = create_env(spec["env"], cfg=cfg)
    obs_space, action_space = env.observation_space, env.action_space
    env.close()
    learner = Learner(cfg, obs_space, action_space)
    t_len = cfg.rollout
    b = max(1, cfg.batch_size * cfg.num_batches_per_epoch // t_len)
    obs = {
        key: torch.as_tensor(np.stack([space.sample() for _ in range(b * (t_len + 1))])).reshape(
            b, t_len + 1, *space.shape
        )
        for key, space in obs_space.spaces.items()
    }
    rnn = torch.zeros(b, t_len + 1, int(learner.actor_critic.rnn_state_size))
    with torch.no_grad():
        flat_obs = {key: value[:, :t_len].reshape(b * t_len, *value.shape[2:]) for key, value in obs.items()}
        out = learner.actor_critic(learner.actor_critic.normalize_obs(flat_obs), rnn[:, :t_len].reshape(b * t_len, -1))
    batch = {
        "obs": obs,
        "rnn_states": rnn,
        "actions": out["actions"].reshape(b, t_len, *out["actions"].shape[1:]),
        "log_prob_actions": out["log_prob_actions"].reshape(b, t_len),
        "action_logits": out["action_logits"].reshape(b, t_len, -1),
        "values": torch.zeros(b, t_len + 1),
        "rewards": torch.rand(b, t_len),
        "dones": torch.rand(b, t_len) < 0.01,
        "time_outs": torch.zeros(b, t_len, dtype=torch.bool),
        "policy_version": torch.zeros(b, t_len, dtype=torch.int64),
        "valids": torch.ones(b, t_len, dtype=torch.bool),
    }
    learner.train(batch)  # warm-up
    samples, start = 0, time.perf_counter()
    while time.perf_counter() - start < spec["seconds"]:
        batch["policy_version"].fill_(learner.policy_version)
        learner.train(batch)
        samples += b * t_len
    return {"samples_per_sec": samples / (time.perf_counter() - start)}


_RESULT_PREFIX = "BENCH_RESULT "  # the line on which a --train-one / --learner-one process prints its figures


def _read_result(output: str) -> dict | None:
    """The figures a child run of this script printed, or None when it printed none."""
    for line in output.splitlines():
        if line.startswith(_RESULT_PREFIX):
            return json.loads(line[len(_RESULT_PREFIX) :])
    return None


def learner_ceiling(env: str, overrides: dict, seconds: float) -> float | None:
    """Run :func:`learner_one` in a fresh process; samples per second, or None when it failed."""
    spec = {"env": env, "overrides": overrides, "seconds": seconds}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--learner-one", json.dumps(spec)]
    output = subprocess.run(cmd, capture_output=True, text=True).stdout
    result = _read_result(output)
    if result is not None:
        return result["samples_per_sec"]
    print(output[-3000:], file=sys.stderr)
    return None


class TreeMemory:
    """Samples the resident and proportional memory of a process and all its descendants; keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = pss = 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for proc in procs:
                try:
                    info = proc.memory_full_info()
                except psutil.Error:
                    continue
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_training(spec: dict) -> dict:
    """Run one configuration in a fresh process, sampling its process tree's memory."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--train-one", json.dumps(spec)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    memory = TreeMemory(proc.pid)
    output, _ = proc.communicate()
    memory.stop()
    result = _read_result(output) or {"status": None, "fps": None, "reward_time": None}
    if result["status"] != 0:
        print(output[-3000:], file=sys.stderr)
    result["peak_rss"] = memory.peak_rss
    result["peak_pss"] = memory.peak_pss
    return result


# ---- report ------------------------------------------------------------------------------------------------------


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="FPS measuring window per training configuration")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of training before the FPS window opens")
    parser.add_argument(
        "--reward-seconds", type=float, default=90.0, help="CartPole runs continue up to this long to reach reward 450"
    )
    parser.add_argument("--raw-seconds", type=float, default=4.0, help="seconds of each raw step-rate measurement")
    parser.add_argument("--learner-seconds", type=float, default=5.0, help="seconds of each learner-alone measurement")
    parser.add_argument(
        "--envs",
        default="cartpole,pixels,breakout,halfcheetah",
        help="comma-separated: cartpole,pixels,breakout,halfcheetah",
    )
    parser.add_argument("--train-dir", default="/tmp/sf_bench", help="experiment folders of the training runs")
    parser.add_argument("--train-one", help=argparse.SUPPRESS)
    parser.add_argument("--learner-one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.learner_one:
        print(_RESULT_PREFIX + json.dumps(learner_one(json.loads(args.learner_one))), flush=True)
        return 0

    if args.train_one:
        result = train_one(json.loads(args.train_one))
        print(_RESULT_PREFIX + json.dumps(result), flush=True)
        return 0

    wanted = set(args.envs.split(","))
    envs = []
    if "cartpole" in wanted:
        envs.append(CARTPOLE)
    if "pixels" in wanted:
        envs.append(bench_envs.PIXEL_ENV)
    if "breakout" in wanted:
        if bench_envs.breakout_available():
            envs.append(bench_envs.BREAKOUT_ENV)
        else:
            print("(Atari Breakout skipped: ale-py is not installed)")
    if "halfcheetah" in wanted:
        if bench_envs.mujoco_available():
            envs.append(bench_envs.HALFCHEETAH_ENV)
        else:
            print("(MuJoCo HalfCheetah skipped: mujoco is not installed)")

    ram = psutil.virtual_memory().total / 2**30
    print(f"machine: {os.cpu_count()} CPUs, {ram:.1f} GiB RAM, load average {os.getloadavg()}")
    rows = []
    for env in envs:
        configs = training_configs(env)
        workers = configs[0][2]["num_workers"]
        raw = {"single": raw_step_rate(env, "single", 8, workers, args.raw_seconds)}
        vector = _make_vector(env, 2) if env != bench_envs.PIXEL_ENV else None
        if vector is not None:
            vector.close()
            raw["vector"] = raw_step_rate(env, "vector", 512 if env == CARTPOLE else 16, workers, args.raw_seconds)
        for impl, rate in raw.items():
            label = "single envs, plain loop" if impl == "single" else "env's own vector implementation"
            rows.append((env, f"raw: {label} ({workers} processes)", rate, None, None, None, None))
        for label, impl, config in configs:
            overrides = dict(config)
            train_env = overrides.pop("env", env)
            spec = {
                "env": train_env,
                "experiment": f"bench_{env.replace('/', '_')}_{len(rows)}",
                "train_dir": args.train_dir,
                "overrides": overrides,
                "seconds": args.seconds,
                "warmup": args.warmup,
                "reward_seconds": args.reward_seconds,
                "to_450": env == CARTPOLE,
            }
            print(f"training {env}: {label} ...", flush=True)
            result = run_training(spec)
            samples_per_sec = learner_ceiling(train_env, overrides, args.learner_seconds)
            # in env frames, like the FPS (one sample of Breakout is 4 frames)
            result["learner"] = samples_per_sec * FRAMES_PER_STEP.get(env, 1) if samples_per_sec else None
            base = raw.get(impl, raw["single"])
            ratio = result["fps"] / base if result["fps"] else None
            rows.append((env, f"sf train: {label}", result["fps"], ratio, result, impl, base))

    print()
    header = f"{'env':<18} {'mode':<70} {'FPS':>10} {'ratio to raw':>13} {'learner alone':>14} {'FPS/learner':>12}"
    header += f" {'peak RSS':>10} {'peak PSS':>10} {'to 450':>8}"
    print(header)
    print("-" * len(header))
    for env, mode, fps, ratio, result, _impl, _base in rows:
        fps_text = f"{fps:,.0f}" if fps else "failed"
        ratio_text = f"{ratio:.1%}" if ratio is not None else ""
        rss = _gib(result["peak_rss"]) if result else ""
        pss = _gib(result["peak_pss"]) if result else ""
        reward = ""
        if result and env == CARTPOLE:
            reward = f"{result['reward_time']:.0f} s" if result["reward_time"] is not None else "n/r"
        learner = result.get("learner") if result else None
        learner_text = f"{learner:,.0f}" if learner else ""
        share = f"{fps / learner:.0%}" if learner and fps else ""
        print(
            f"{env:<18} {mode:<70} {fps_text:>10} {ratio_text:>13} {learner_text:>14} {share:>12} {rss:>10} {pss:>10}"
            f" {reward:>8}"
        )
    print()
    print(
        "ratio to raw: training FPS / raw step rate of the same env implementation on the same number of processes. "
        "to 450: seconds from the start of training until the average reward of the last 100 episodes reached 450 "
        "(n/r: not reached within --reward-seconds). learner alone: samples per second (in env frames) that "
        "Learner.train reaches by itself on one core with that configuration's model and batch (the ceiling of "
        "training FPS when the learner has one core); FPS/learner: training FPS as a share of it."
    )
    print(
        "Sample Factory 2.1.1 anchor on this machine (CartPole-v1, same flags): "
        + ", ".join(f"{k}: {v:,} FPS" for k, v in SF_ANCHOR_FPS.items())
        + "; peak PSS "
        + ", ".join(f"{k}: {v:.2f} GiB" for k, v in SF_ANCHOR_PSS_GIB.items())
        + " (its torch is the CPU build; PyPI's CUDA build that sf uses costs about 0.3 GiB more per process at import)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
