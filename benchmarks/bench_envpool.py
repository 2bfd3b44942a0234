"""EnvPool as sf's batched env source: the raw EnvPool rate and sf's training FPS as a share of it.

Run from the repository root (needs ``sf-examples[envpool]``)::

    uv run python benchmarks/bench_envpool.py                          # Breakout and HalfCheetah, ~4 minutes
    uv run python benchmarks/bench_envpool.py --envs envpool_halfcheetah --seconds 60

For each env:

- **raw**: ``--workers`` processes, each stepping one EnvPool of ``--envs`` envs (sync, one ``step`` call for all)
  with random actions drawn in one numpy call: the same cores and env counts as the training run, no learner;
- **sf train**: ``python -m sf_examples.envpool.train_envpool`` (parallel runner, ``batched_sampling``: every worker
  split steps its own pool) with a small model (Atari: ``convnet_simple`` and a 64-unit layer; MuJoCo: the 64x64
  MLPs) and, by default, one epoch over each batch of 1024 (``--epochs 0``: the env's own PPO defaults, 4 or 10
  epochs, which make the learner the limit), FPS from its progress lines after ``--warmup``, and its share of the raw
  rate.

Frames: Atari counts 4 frames per agent step (frame skip), MuJoCo one. The 2-core machine is shared: the load average
is printed first and last.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_vizdoom import REPO, load_average, run_training

SMALL_MODEL = {
    "envpool_breakout": ["--encoder_conv_architecture=convnet_simple", "--encoder_conv_mlp_layers", "64"],
    "envpool_halfcheetah": ["--encoder_mlp_layers", "64", "64"],
}
# Throughput settings (--epochs 1): one pass over each batch of 1024, so the learner's epochs do not set the pace.
THROUGHPUT = ["--num_epochs=1", "--batch_size=1024", "--num_batches_per_epoch=1"]


def _raw_worker(env_name: str, num_envs: int, seconds: float, out: mp.Queue) -> None:
    import numpy as np

    from sf_examples.envpool.envpool_env import ATARI_GAMES, make_pool

    pool = make_pool(env_name, None, num_envs, 0)
    try:
        pool.reset()
        space = pool.action_space
        rng = np.random.default_rng(0)
        frames = 4 if env_name in ATARI_GAMES else 1
        steps = 0
        deadline = time.time() + seconds
        while time.time() < deadline:
            if hasattr(space, "n"):
                actions = rng.integers(0, int(space.n), num_envs)
            else:
                actions = rng.uniform(space.low, space.high, (num_envs, *space.shape))
            pool.step(actions)
            steps += num_envs
        out.put(steps * frames / seconds)
    finally:
        pool.close()


def raw_rate(env_name: str, workers: int, envs: int, seconds: float) -> float:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_raw_worker, args=(env_name, envs, seconds, out)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    rates = [out.get(timeout=seconds + 300) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    return sum(rates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs-list", "--envs", dest="env_names", default="envpool_breakout,envpool_halfcheetah")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--num-envs", type=int, default=16, help="envs per worker (two pools of half as many)")
    parser.add_argument("--seconds", type=float, default=45.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--raw-seconds", type=float, default=10.0)
    parser.add_argument(
        "--epochs", type=int, default=1, help="1: the throughput settings (THROUGHPUT); 0: the env's own defaults"
    )
    args = parser.parse_args(argv)

    print(f"load average: {load_average()} ({os.cpu_count()} cores)")
    results = []
    for env in args.env_names.split(","):
        # the raw rate with the pools the training run makes: two splits per worker, half the envs each
        raw = raw_rate(env, 2 * args.workers, args.num_envs // 2, args.raw_seconds)
        print(f"{env} raw: {raw:,.0f} frames/s", flush=True)
        train_dir = Path(tempfile.mkdtemp(prefix="bench_envpool_"))
        try:
            flags = [
                f"--env={env}",
                "--experiment=bench",
                f"--train_dir={train_dir}",
                "--device=cpu",
                f"--num_workers={args.workers}",
                f"--num_envs_per_worker={args.num_envs}",
                "--worker_num_splits=2",
                "--envpool_num_threads=1",
                *SMALL_MODEL.get(env, []),
                *(THROUGHPUT if args.epochs == 1 else []),
                f"--train_for_seconds={int(args.warmup + args.seconds + 600)}",  # a backstop: the bench stops it
                "--train_for_env_steps=10000000000",
            ]
            sf = run_training(
                [sys.executable, "-m", "sf_examples.envpool.train_envpool", *flags],
                args.seconds,
                args.warmup,
                REPO,
                "sf train",
            )
        finally:
            shutil.rmtree(train_dir, ignore_errors=True)
        print(f"{env} sf: {sf}", flush=True)
        results.append((env, raw, sf.get("fps")))

    print(f"\n{args.workers} workers x {args.num_envs} envs (2 pools each); load average at the end: {load_average()}")
    print(f"{'env':<22}{'raw frames/s':>14}{'sf train FPS':>14}{'share':>8}")
    for env, raw, fps in results:
        share = f"{fps / raw:.0%}" if fps else "-"
        print(f"{env:<22}{raw:>14,.0f}{(f'{fps:,.0f}' if fps else 'failed'):>14}{share:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
