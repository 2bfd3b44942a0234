"""Soak benchmark: a long run of the parallel runner with many envs per worker; is its memory flat, its FPS steady?

Run from the repository root::

    uv run python benchmarks/bench_soak.py                         # 300 s, CartPole-v1, 2 workers x 64 single envs
    uv run python benchmarks/bench_soak.py --batched --seconds 600 # gymnasium's vector env inside each worker

The training run (this script with ``--run``, a fresh process) reports the frames it has sampled, as counted by the
run itself (``ParallelLifecycle.frames``), about once a second. This process samples, every ``--interval`` seconds,
the PSS and RSS of the run's whole process tree (``psutil``'s ``memory_full_info``, summed over the main process and
all its descendants) and the number of processes in it. After ``--warmup`` seconds of training (startup excluded) it
compares:

- memory: the mean of the samples of the first FPS window after warm-up with the mean of the samples of the last
  window, and the least-squares slope over all samples after warm-up. Verdict "flat" when the growth is below
  ``max(32 MiB, 3 %)`` of the PSS after warm-up. Why that bound: the allocator's arenas, torch's caches and the
  pickling buffers of the queues move a few tens of MiB without any leak; a real leak is per step or per
  trajectory, and even 16 bytes per env step grows by more than 32 MiB in the 240 s measured at this machine's
  ~10k FPS (2.4 million steps).
- FPS: frames per ``--window`` seconds after warm-up, their mean and coefficient of variation (std / mean).
  Verdict "steady" when the CV is below ``--max-cv`` (default 0.15: the 2 cores of this machine are shared with
  other jobs, whose load alone moves the FPS of a window by a few percent to ten).

Figures and verdicts are printed; nothing is asserted (the machine's load decides too much for a test).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

MIB = 2**20
# Sample Factory's defaults with the anchor's flags (see bench_throughput.py), many envs per worker.
RUN_FLAGS = dict(use_rnn=False, recurrence=1, batch_size=512, reward_scale=0.1)


# ---- the training run (child process) ----------------------------------------------------------------------------


def run_soak(spec: dict) -> int:
    """Train for ``spec["seconds"]`` after startup, printing ``SOAK_FRAMES <monotonic time> <frames>`` every second."""
    import torch

    torch.set_num_threads(1)
    from sf_config import make_cfg
    from sf_runtime import RunObserver, run_rl

    class FrameReporter(RunObserver):
        def __init__(self) -> None:
            self.t0 = 0.0
            self.last_print = 0.0

        def on_start(self, run) -> None:
            self.t0 = time.monotonic()
            print(f"SOAK_START {self.t0:.3f}", flush=True)

        def on_iteration(self, run) -> None:
            now = time.monotonic()
            if now - self.last_print >= 1.0:
                self.last_print = now
                print(f"SOAK_FRAMES {now:.3f} {run.frames.total}", flush=True)
            if now - self.t0 >= spec["seconds"]:
                run.request_stop("soak over")

    cfg = make_cfg(
        env=spec["env"],
        experiment="soak",
        train_dir=spec["train_dir"],
        device="cpu",
        restart_behavior="overwrite",
        num_workers=spec["workers"],
        num_envs_per_worker=spec["envs"],
        batched_sampling=spec["batched"],
        **RUN_FLAGS,
    )
    return run_rl(cfg, observers=[FrameReporter()])


# ---- measuring (this process) ------------------------------------------------------------------------------------


class TreeSampler:
    """Samples PSS, RSS and the process count of a process tree every ``interval`` seconds, with timestamps."""

    def __init__(self, pid: int, interval: float) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.samples: list[tuple[float, int, int, int, int]] = []  # (monotonic time, pss, rss, processes, uss)
        self.per_process: list[tuple[float, dict[int, tuple[str, int]]]] = []  # (time, {pid: (name, pss)})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            pss = rss = uss = count = 0
            each = {}
            for proc in procs:
                try:
                    info = proc.memory_full_info()
                    name = "main (the runner)" if proc.pid == self.root.pid else f"child of pid {proc.ppid()}"
                except psutil.Error:
                    continue
                pss += getattr(info, "pss", info.rss)
                rss += info.rss
                uss += getattr(info, "uss", info.rss)
                count += 1
                each[proc.pid] = (name, getattr(info, "pss", info.rss))
            now = time.monotonic()
            self.samples.append((now, pss, rss, count, uss))
            self.per_process.append((now, each))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def fps_windows(frames: list[tuple[float, int]], start: float, window: float) -> list[float]:
    """FPS of consecutive ``window``-second windows from ``start``, from (time, total frames) reports."""
    result = []
    t = start
    while True:
        inside = [(ts, n) for ts, n in frames if t <= ts <= t + window]
        if not inside or frames[-1][0] < t + window * 0.95:  # the last window must be (nearly) complete
            break
        (t0, n0), (t1, n1) = inside[0], inside[-1]
        if t1 > t0:
            result.append((n1 - n0) / (t1 - t0))
        t += window
    return result


def slope_mib_per_min(points: list[tuple[float, int]]) -> float:
    """Least-squares slope of (seconds, bytes) points, in MiB per minute."""
    if len(points) < 2:
        return 0.0
    xs = [t for t, _ in points]
    ys = [v / MIB for _, v in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def report(args, sampler: TreeSampler, frames: list[tuple[float, int]], started: float | None, status: int) -> None:
    print(f"\nrun exit code: {status}; load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if started is None or not frames:
        print("the run never started training: no figures")
        return
    warm = started + args.warmup
    end = frames[-1][0]
    after = [s for s in sampler.samples if warm <= s[0] <= end]
    if len(after) < 2:
        print(f"too few memory samples after the {args.warmup:.0f} s warm-up: run longer (--seconds)")
        return
    first = [s for s in after if s[0] <= warm + args.window] or after[:1]
    last = [s for s in after if s[0] >= end - args.window] or after[-1:]

    print(
        f"\nmemory of the process tree ({len(after)} samples every {args.interval:.0f} s after a {args.warmup:.0f} s "
        f"warm-up; first/last {args.window:.0f} s averaged)"
    )
    verdicts = []
    for label, index in (("PSS", 1), ("RSS", 2), ("USS", 4)):
        begin = statistics.fmean(s[index] for s in first)
        final = statistics.fmean(s[index] for s in last)
        growth = final - begin
        peak = max(s[index] for s in after)
        slope = slope_mib_per_min([(s[0], s[index]) for s in after])
        print(
            f"  {label}: after warm-up {begin / MIB:8.1f} MiB, at the end {final / MIB:8.1f} MiB, growth "
            f"{growth / MIB:+7.1f} MiB ({100 * growth / begin:+.1f} %), peak {peak / MIB:.1f} MiB, "
            f"trend {slope:+.2f} MiB/min"
        )
        if label == "PSS":
            bound = max(32 * MIB, 0.03 * begin)
            flat = growth < bound
            verdicts.append(
                f"memory: {'FLAT' if flat else 'GROWING'} (PSS growth {growth / MIB:+.1f} MiB, bound "
                f"max(32 MiB, 3 %) = {bound / MIB:.1f} MiB)"
            )
    counts = sorted({s[3] for s in after})
    print(f"  processes in the tree: {counts[0]}..{counts[-1]}")
    print("  (USS: memory private to each process. PSS growing while USS and RSS stay flat is not the run allocating:")
    print("  shared pages (libtorch, the fork server's heap) are divided among fewer processes, e.g. others exited)")
    per = [(t, each) for t, each in sampler.per_process if warm <= t <= end]
    first_each = [each for t, each in per if t <= warm + args.window] or [per[0][1]]
    last_each = [each for t, each in per if t >= end - args.window] or [per[-1][1]]
    rows = []
    for pid in set(first_each[0]) & set(last_each[-1]):
        b = statistics.fmean(e[pid][1] for e in first_each if pid in e)
        f = statistics.fmean(e[pid][1] for e in last_each if pid in e)
        rows.append((f - b, pid, last_each[-1][pid][0], b, f))
    print("  PSS per process (after warm-up -> end):")
    for growth, pid, name, b, f in sorted(rows, reverse=True):
        print(f"    pid {pid:>7} {name:<40} {b / MIB:7.1f} -> {f / MIB:7.1f} MiB ({growth / MIB:+.1f})")

    windows = fps_windows(frames, warm, args.window)
    print(f"\nFPS per {args.window:.0f} s window after warm-up ({len(windows)} windows):")
    print("  " + " ".join(f"{w:,.0f}" for w in windows))
    if len(windows) >= 2:
        mean = statistics.fmean(windows)
        cv = statistics.pstdev(windows) / mean if mean else float("inf")
        total = (frames[-1][1] - frames[0][1]) / max(frames[-1][0] - frames[0][0], 1e-9)
        print(
            f"  mean {mean:,.0f} FPS, coefficient of variation {cv:.3f}, min {min(windows):,.0f}, "
            f"max {max(windows):,.0f}; whole run incl. warm-up {total:,.0f} FPS, {frames[-1][1]:,} frames"
        )
        verdicts.append(f"FPS: {'STEADY' if cv < args.max_cv else 'UNSTEADY'} (CV {cv:.3f}, bound {args.max_cv})")
    else:
        verdicts.append("FPS: too few windows for a verdict (run longer or use a shorter --window)")
    print()
    for line in verdicts:
        print("verdict " + line)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="training time after startup, warm-up included")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds of training before measuring")
    parser.add_argument("--window", type=float, default=30.0, help="FPS window, and the memory averaging window")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between memory samples")
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--envs", type=int, default=64, help="envs per worker")
    parser.add_argument("--batched", action="store_true", help="batched sampling (the env's vector implementation)")
    parser.add_argument("--max-cv", type=float, default=0.15, help="FPS coefficient of variation called steady")
    parser.add_argument("--train-dir", default="/tmp/sf_soak")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        return run_soak(json.loads(args.run))

    spec = dict(
        env=args.env,
        workers=args.workers,
        envs=args.envs,
        batched=args.batched,
        seconds=args.seconds,
        train_dir=args.train_dir,
    )
    mode = "batched" if args.batched else "non-batched"
    print(
        f"soak: {args.env}, {args.workers} workers x {args.envs} envs ({mode}), {args.seconds:.0f} s of training "
        f"({args.warmup:.0f} s warm-up), {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run", json.dumps(spec)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = TreeSampler(proc.pid, args.interval)
    frames: list[tuple[float, int]] = []
    started = None
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("SOAK_FRAMES "):
            _, ts, n = line.split()
            frames.append((float(ts), int(n)))
        elif line.startswith("SOAK_START "):
            started = float(line.split()[1])
        else:
            tail = [*tail[-40:], line.rstrip()]
    status = proc.wait()
    sampler.stop()
    if status != 0:
        print("\n".join(tail), file=sys.stderr)
    report(args, sampler, frames, started, status)
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
