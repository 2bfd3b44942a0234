"""VizDoom throughput: the raw env rate, sf's training FPS, and Sample Factory 2.1.1 (the anchor) at equal settings.

Run from the repository root (needs ``sf-examples[vizdoom]``)::

    uv run python benchmarks/bench_vizdoom.py                    # doom_basic, about 5 minutes
    uv run python benchmarks/bench_vizdoom.py --env doom_defend_the_center --seconds 120

Rows (env frames per second; one agent step is ``env_frameskip`` = 4 frames):

- **raw**: ``--workers`` processes, each stepping ``--envs`` envs of sf's Doom env in a plain loop with random
  actions (the same cores as the training runs);
- **sf train**: ``python -m sf_examples.vizdoom.train_vizdoom`` (the parallel runner) with the settings below, FPS
  measured from its progress lines between the end of ``--warmup`` and the end of the run; its share of the raw rate;
- **SF 2.1.1 train**: the anchor's own ``sf_examples.vizdoom.train_vizdoom`` module, run by the anchor venv's python
  (the venv that ``../shared/bench/sf-anchor`` builds in ``${XDG_CACHE_HOME:-~/.cache}/sf-anchor``; vizdoom<2 is
  pip-installed into it when missing), with the same flags, measured the same way; and sf's FPS over the anchor's.

Equal settings for both frameworks: ``--num_workers`` x ``--num_envs_per_worker`` envs in ``--worker_num_splits`` 2,
rollout 32, recurrence 32, GRU core of ``--rnn-size``, a ``convnet_simple`` encoder with one MLP layer of that size,
``--batch-size``, CPU learner, frame skip 4, 128x72 RGB frames. The 2-core machine is shared: the load average is
printed first; compare figures only between runs in one invocation.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ANCHOR_SCRIPT = Path("..") / "shared" / "bench" / "sf-anchor"  # relative to the repository root
FRAMES_LINE = re.compile(r"Total num frames: ([\d,]+)")


def anchor_python() -> Path:
    """The anchor venv's python, where ``../shared/bench/sf-anchor`` builds it."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "sf-anchor" / "venv" / "bin" / "python"


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _stop_group(proc: subprocess.Popen) -> None:
    """Ctrl-C to the run's whole process group (its workers and their env processes), then harder if need be."""
    for sig, wait in ((signal.SIGINT, 60), (signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):  # what outlived the main process (engines, spawned workers)
        os.killpg(proc.pid, signal.SIGKILL)


def run_training(command: list[str], seconds: float, warmup: float, cwd: Path, label: str) -> dict:
    """Runs a training command that prints SF-style progress lines; FPS over ``seconds`` after ``warmup``.

    The window starts ``warmup`` seconds after the first line that counts frames (startup excluded) and lasts
    ``seconds``; each ``Total num frames`` line is timed when it is read. Then the run's process group is stopped.
    """
    start = time.time()
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        start_new_session=True,
    )
    points: list[tuple[float, int]] = []
    tail: list[str] = []
    window_done = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line)
            del tail[:-40]
            match = FRAMES_LINE.search(line)
            if match:
                now = time.time() - start
                points.append((now, int(match.group(1).replace(",", ""))))
                first = next((t for t, f in points if f > 0), None)
                if first is not None and now >= first + warmup + seconds:
                    window_done.set()
        window_done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    window_done.wait(timeout=seconds + warmup + 600)
    _stop_group(proc)
    reader.join(timeout=10)
    first = next(((t, f) for t, f in points if f > 0), None)
    if first is None:
        return {"label": label, "fps": None, "error": "".join(tail[-15:]), "rc": proc.returncode}
    t0 = first[0] + warmup
    window = [(t, f) for t, f in points if t0 <= t <= t0 + seconds + 10]
    if len(window) < 2:
        window = [first, points[-1]]
    (ta, fa), (tb, fb) = window[0], window[-1]
    fps = (fb - fa) / (tb - ta) if tb > ta else None
    return {"label": label, "fps": fps, "frames": fb, "window_s": round(tb - ta, 1)}


# ---- raw env rate --------------------------------------------------------------------------------------------------


def _raw_worker(env_name: str, num_envs: int, seconds: float, out: mp.Queue) -> None:
    from sf_examples.vizdoom.doom_env import make_doom_env

    envs = [make_doom_env(env_name) for _ in range(num_envs)]
    try:
        for i, env in enumerate(envs):
            env.reset(seed=i)
            env.action_space.seed(i)
        frameskip = envs[0].frameskip
        steps = 0
        deadline = time.time() + seconds
        while time.time() < deadline:
            for env in envs:
                _, _, terminated, truncated, _ = env.step(env.action_space.sample())
                if terminated or truncated:
                    env.reset()
                steps += 1
        out.put(steps * frameskip / seconds)
    finally:
        for env in envs:
            env.close()


def raw_rate(env_name: str, workers: int, envs: int, seconds: float) -> float:
    """Frames per second of ``workers`` processes stepping ``envs`` envs each, summed."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_raw_worker, args=(env_name, envs, seconds, out)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    rates = [out.get(timeout=seconds + 300) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    return sum(rates)


# ---- main ----------------------------------------------------------------------------------------------------------


def common_flags(args: argparse.Namespace, experiment: str, train_dir: Path) -> list[str]:
    return [
        f"--env={args.env}",
        f"--experiment={experiment}",
        f"--train_dir={train_dir}",
        "--device=cpu",
        f"--num_workers={args.workers}",
        f"--num_envs_per_worker={args.envs}",
        "--worker_num_splits=2",
        "--rollout=32",
        "--recurrence=32",
        f"--batch_size={args.batch_size}",
        f"--rnn_size={args.rnn_size}",
        "--encoder_conv_mlp_layers",
        str(args.rnn_size),
        "--env_frameskip=4",
        "--res_w=128",
        "--res_h=72",
        f"--train_for_seconds={int(args.warmup + args.seconds + 600)}",  # a backstop: the bench stops the run
        "--train_for_env_steps=10000000000",
    ]


def ensure_anchor_vizdoom(python: Path) -> bool:
    if subprocess.run([str(python), "-c", "import vizdoom"], capture_output=True).returncode == 0:
        return True
    print("installing vizdoom<2 into the anchor venv ...", flush=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "vizdoom<2"], capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-2000:])
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="doom_basic")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--envs", type=int, default=8, help="envs per worker")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--rnn-size", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=60.0, help="FPS window of each training run")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--raw-seconds", type=float, default=15.0)
    parser.add_argument("--no-anchor", action="store_true", help="skip Sample Factory 2.1.1")
    args = parser.parse_args(argv)

    print(f"load average: {load_average()} ({os.cpu_count()} cores)")
    raw = raw_rate(args.env, args.workers, args.envs, args.raw_seconds)
    rows = [("raw env, random actions", raw, None)]
    print(f"raw: {raw:,.0f} frames/s", flush=True)

    train_dir = Path(tempfile.mkdtemp(prefix="bench_vizdoom_"))
    try:
        sf = run_training(
            [sys.executable, "-m", "sf_examples.vizdoom.train_vizdoom", *common_flags(args, "sf", train_dir)],
            args.seconds,
            args.warmup,
            REPO,
            "sf train",
        )
        rows.append(("sf train", sf["fps"], sf))
        print(f"sf: {sf}", flush=True)
        anchor = None
        python = anchor_python()
        if args.no_anchor:
            pass
        elif not (REPO / ANCHOR_SCRIPT).exists() or not python.exists():
            print(f"anchor skipped: no anchor venv at {python} (run {ANCHOR_SCRIPT} once to build it)")
        elif ensure_anchor_vizdoom(python):
            anchor = run_training(
                [str(python), "-m", "sf_examples.vizdoom.train_vizdoom", *common_flags(args, "anchor", train_dir)],
                args.seconds,
                args.warmup,
                REPO,
                "SF 2.1.1 train",
            )
            rows.append(("SF 2.1.1 train (anchor)", anchor["fps"], anchor))
            print(f"anchor: {anchor}", flush=True)
    finally:
        shutil.rmtree(train_dir, ignore_errors=True)

    print(f"\n{args.env}: {args.workers} workers x {args.envs} envs, batch {args.batch_size}, GRU {args.rnn_size}")
    print(f"load average at the end: {load_average()}")
    print(f"{'row':<28}{'frames/s':>12}{'share of raw':>14}")
    for label, fps, _ in rows:
        if fps is None:
            print(f"{label:<28}{'failed':>12}")
            continue
        print(f"{label:<28}{fps:>12,.0f}{fps / raw:>13.0%}")
    if anchor and anchor.get("fps") and sf.get("fps"):
        print(f"sf / SF 2.1.1: {sf['fps'] / anchor['fps']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
