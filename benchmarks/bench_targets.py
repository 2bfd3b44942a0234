"""The rows of issue 15's targets in one invocation: VizDoom, CartPole wall time and startup, EnvPool's share of raw.

Run from the repository root (needs ``sf-examples[vizdoom,envpool]``; the anchor rows need the venv that
``../shared/bench/sf-anchor`` builds)::

    uv run python benchmarks/bench_targets.py                       # about 30 minutes on 2 busy cores
    uv run python benchmarks/bench_targets.py --doom-frames 100000 --startup-runs 2

Rows, sf beside Sample Factory 2.1.1 (the anchor) where it runs, each pair run one after the other:

- **VizDoom** ``doom_basic`` and ``doom_health_gathering_supreme`` at each framework's own defaults
  (``sf_examples.vizdoom.train_vizdoom``, ``--num_workers=2 --device=cpu``) for ``--doom-frames`` (300k) env
  frames: training FPS (from the progress lines, first frames to last) and the average episode reward each reports
  last; the ratio of the FPS. With ``--doom-seeds N`` each env runs with seeds 1..N on each side (sf and the anchor
  alternating), and the means over the seeds are printed too: one seed's reward after 300k frames is noisy. The
  average episode length in agent steps (each side's summaries at the end) is printed beside the reward: it is the
  same quantity on both sides, where the reward is not. On ``doom_health_gathering_supreme`` sf reports the
  scenario's own reward (+1 per tic alive, -100 on death, times 0.01: a random policy scores 3.2 for 105 steps
  alive), while Sample Factory 2.1.1's example adds a shaping of its own (its random policy scores 4.6 for the same
  103 steps, and its own true objective, time alive times 0.01, reads 4.1); there the length, the time survived, is
  the figure to compare (longer is better; on ``doom_basic``, shorter is: the target is killed sooner). sf's
  Doom defaults encode in bfloat16 where the CPU computes it natively (``encoder_precision=auto``); a second sf row
  runs in float32, the anchor's precision, to show what each part is worth (``--skip doom-float32`` leaves it out);
- **CartPole-v1** with the default model (512x512 MLP), the anchor's flags (``--use_rnn=False --recurrence=1
  --batch_size=512 --reward_scale=0.1``), 2 workers x 64 envs, ``--cartpole-frames`` (600k): wall time from launch
  to exit, and the ratio anchor / sf; then launch to first sample and to the first FPS report
  (:mod:`bench_startup`, median of ``--startup-runs``);
- **EnvPool** ``envpool_halfcheetah``: the raw pool rate and sf's training FPS with a small model as a share of it
  (:mod:`bench_envpool`).

The machine's load average is printed at the start and the end: on a shared machine compare ratios measured in one
invocation, not figures across invocations.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_envpool
import bench_startup
from bench_vizdoom import REPO, _stop_group, anchor_python, ensure_anchor_vizdoom, load_average, run_training

DOOM_TRAIN = "sf_examples.vizdoom.train_vizdoom"  # the same module name in sf-examples and in the anchor's wheel
ANCHOR_TRAIN = REPO.parent / "shared" / "bench" / "sf_anchor_train.py"
FRAMES = re.compile(r"Total num frames: ([\d,]+)")
REWARD = re.compile(r"avg reward (-?[\d.]+)|Avg episode reward: \[\(0, '(-?[\d.]+)'\)\]")
CARTPOLE_FLAGS = ["--env=CartPole-v1", "--use_rnn=False", "--recurrence=1", "--batch_size=512", "--reward_scale=0.1",
                  "--num_workers=2", "--num_envs_per_worker=64"]  # fmt: skip


# Where each framework's summaries keep the average episode length, and the agent steps per unit of it: sf counts
# agent steps, Sample Factory 2.1.1 env frames (4 per agent step at the Doom defaults' frame skip).
EPISODE_LENGTH = {"sf": ("episode/length", 1), "anchor": ("len/len", 4)}


def last_episode_length(experiment_dir: Path, side: str) -> float | None:
    """The last average episode length, in agent steps, in an experiment's policy-0 summaries (None without one)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tag, per_step = EPISODE_LENGTH[side]
    events = EventAccumulator(str(experiment_dir / ".summary" / "0"), size_guidance={"scalars": 0})
    events.Reload()
    if tag not in events.Tags()["scalars"]:
        return None
    return events.Scalars(tag)[-1].value / per_step


def run_to_end(command: list[str], limit_s: float) -> dict:
    """Runs a training command to its end: wall seconds, FPS between the first and last frames line, last reward."""
    start = time.monotonic()
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            start_new_session=True)  # fmt: skip
    points: list[tuple[float, int]] = []
    reward, tail = None, []
    assert proc.stdout is not None
    for line in proc.stdout:
        tail = [*tail[-20:], line]
        if (match := FRAMES.search(line)) is not None:
            points.append((time.monotonic() - start, int(match.group(1).replace(",", ""))))
        if (match := REWARD.search(line)) is not None:
            reward = float(match.group(1) or match.group(2))
        if time.monotonic() - start > limit_s:
            break
    _stop_group(proc)
    wall = time.monotonic() - start
    moving = [(t, f) for t, f in points if f > 0]
    fps = (moving[-1][1] - moving[0][1]) / (moving[-1][0] - moving[0][0]) if len(moving) > 1 else None
    result = {"wall_s": round(wall, 1), "fps": fps, "frames": moving[-1][1] if moving else 0, "reward": reward}
    if proc.returncode not in (0, None) or fps is None:
        result["error"] = "".join(tail[-8:])
    return result


def doom_rows(args: argparse.Namespace, train_dir: Path) -> list[tuple[str, int, dict, dict | None, dict | None]]:
    """``(env, seed, sf, sf in float32, anchor)`` per env and seed; sf and the anchor alternate within a seed."""
    rows = []
    python = anchor_python()
    anchor_ok = not args.no_anchor and python.exists() and ensure_anchor_vizdoom(python)
    for env in ("doom_basic", "doom_health_gathering_supreme"):
        for seed in range(1, args.doom_seeds + 1):
            flags = [f"--env={env}", "--num_workers=2", "--device=cpu", f"--train_for_env_steps={args.doom_frames}",
                     f"--seed={seed}", f"--train_dir={train_dir}"]  # fmt: skip
            sf_train = [sys.executable, "-m", DOOM_TRAIN, *flags]
            name = f"{env}_s{seed}"
            sf = run_to_end([*sf_train, f"--experiment=sf_{name}"], args.limit)
            sf["length"] = last_episode_length(train_dir / f"sf_{name}", "sf")
            print(f"{env} seed {seed} sf: {sf}", flush=True)
            sf_float32 = None
            if "doom-float32" not in args.skip:  # the anchor's precision: what the rest of sf's speed-up is worth
                float32 = ["--encoder_precision=float32", f"--experiment=sf32_{name}"]
                sf_float32 = run_to_end([*sf_train, *float32], args.limit)
                sf_float32["length"] = last_episode_length(train_dir / f"sf32_{name}", "sf")
                print(f"{env} seed {seed} sf float32: {sf_float32}", flush=True)
            anchor = None
            if anchor_ok:
                anchor = run_to_end([str(python), "-m", DOOM_TRAIN, *flags, f"--experiment=anchor_{name}"], args.limit)
                anchor["length"] = last_episode_length(train_dir / f"anchor_{name}", "anchor")
                print(f"{env} seed {seed} anchor: {anchor}", flush=True)
            rows.append((env, seed, sf, sf_float32, anchor))
    return rows


def cartpole_row(args: argparse.Namespace, train_dir: Path) -> tuple[dict, dict | None]:
    steps = f"--train_for_env_steps={args.cartpole_frames}"
    cli = Path(sys.executable).with_name("sf-cli")
    sf = run_to_end([str(cli), "train", *CARTPOLE_FLAGS, steps, f"--train_dir={train_dir}", "--experiment=sf_cp",
                     "--verbose", "--progress", "none", "--device=cpu"], args.limit)  # fmt: skip
    print(f"CartPole sf: {sf}", flush=True)
    anchor = None
    python = anchor_python()
    if not args.no_anchor and python.exists():
        anchor = run_to_end([str(python), str(ANCHOR_TRAIN), *CARTPOLE_FLAGS, steps, f"--train_dir={train_dir}",
                             "--experiment=anchor_cp", "--device=cpu"], args.limit)  # fmt: skip
        print(f"CartPole anchor: {anchor}", flush=True)
    return sf, anchor


def envpool_row(args: argparse.Namespace, train_dir: Path) -> tuple[float, float | None]:
    env, workers, num_envs = "envpool_halfcheetah", 2, 16
    raw = bench_envpool.raw_rate(env, 2 * workers, num_envs // 2, 10.0)
    flags = [f"--env={env}", "--experiment=envpool", f"--train_dir={train_dir}", "--device=cpu",
             f"--num_workers={workers}", f"--num_envs_per_worker={num_envs}", "--worker_num_splits=2",
             "--envpool_num_threads=1", *bench_envpool.SMALL_MODEL.get(env, []), *bench_envpool.THROUGHPUT,
             "--train_for_seconds=900", "--train_for_env_steps=10000000000"]  # fmt: skip
    sf = run_training([sys.executable, "-m", "sf_examples.envpool.train_envpool", *flags], 40.0, 15.0, REPO, "sf")
    print(f"EnvPool raw {raw:,.0f}, sf {sf}", flush=True)
    return raw, sf.get("fps")


def _mean(values: list[float | None]) -> float | None:
    """The mean of the values that were measured (None when none was)."""
    seen = [v for v in values if v is not None]
    return sum(seen) / len(seen) if seen else None


def _f(value: float | None, fmt: str = ",.0f") -> str:
    return "-" if value is None else format(value, fmt)


def print_table(doom, cartpole, startup, envpool) -> None:
    print(f"\nload average at the end: {load_average()}")
    print(f"{'row':<64}{'sf':>12}{'SF 2.1.1':>12}{'sf vs anchor':>14}")
    for env, seed, sf, sf_float32, anchor in doom:
        anchor = anchor or {}
        for label, run in ((f" (seed {seed})", sf), (f" (seed {seed}), sf in float32", sf_float32 or {})):
            if not run:
                continue
            ratio = run["fps"] / anchor["fps"] if run.get("fps") and anchor.get("fps") else None
            print(f"{env + ' FPS' + label:<64}{_f(run.get('fps')):>12}{_f(anchor.get('fps')):>12}"
                  f"{_f(ratio, '.2f') + 'x':>14}")  # fmt: skip
            print(f"{env + ' avg reward at the end' + label:<64}{_f(run.get('reward'), '.2f'):>12}"
                  f"{_f(anchor.get('reward'), '.2f'):>12}")  # fmt: skip
            print(f"{env + ' avg episode length at the end, agent steps' + label:<64}"
                  f"{_f(run.get('length'), '.1f'):>12}{_f(anchor.get('length'), '.1f'):>12}")  # fmt: skip
    for env in dict.fromkeys(row[0] for row in doom):
        runs = [(sf, anchor or {}) for e, _, sf, _, anchor in doom if e == env]
        if len(runs) > 1:
            sides = zip(*runs, strict=True)
            keys = ("fps", "reward", "length")
            means = [_mean([run.get(key) for run in side]) for side in sides for key in keys]
            sf_fps, sf_reward, sf_length, anchor_fps, anchor_reward, anchor_length = means
            ratio = sf_fps / anchor_fps if sf_fps and anchor_fps else None
            print(f"{env + f' FPS, mean of {len(runs)} seeds':<64}{_f(sf_fps):>12}{_f(anchor_fps):>12}"
                  f"{_f(ratio, '.2f') + 'x':>14}")  # fmt: skip
            print(f"{env + f' avg reward at the end, mean of {len(runs)} seeds':<64}{_f(sf_reward, '.2f'):>12}"
                  f"{_f(anchor_reward, '.2f'):>12}")  # fmt: skip
            print(f"{env + f' avg episode length at the end, mean of {len(runs)} seeds':<64}"
                  f"{_f(sf_length, '.1f'):>12}{_f(anchor_length, '.1f'):>12}")  # fmt: skip
    sf, anchor = cartpole
    anchor = anchor or {}
    ratio = anchor["wall_s"] / sf["wall_s"] if anchor.get("wall_s") and sf.get("wall_s") else None
    print(f"{'CartPole 2x64 default model, wall s':<64}{_f(sf['wall_s'], '.1f'):>12}"
          f"{_f(anchor.get('wall_s'), '.1f'):>12}{_f(ratio, '.2f') + 'x faster':>14}")  # fmt: skip
    print(
        f"{'CartPole avg reward at the end':<64}{_f(sf.get('reward'), '.1f'):>12}{_f(anchor.get('reward'), '.1f'):>12}"
    )
    for label, seen in startup.items():
        for event in ("first sample", "first FPS report"):
            if seen.get(event) is not None:
                print(f"{'CartPole launch to ' + event + ' (' + label + '), s':<64}{_f(seen[event], '.1f'):>12}")
    raw, fps = envpool
    print(f"{'EnvPool HalfCheetah raw / sf train FPS':<64}{_f(fps):>12}{'':>12}"
          f"{(_f(fps / raw * 100, '.0f') + '% of ' + _f(raw)) if fps else '-':>14}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--doom-frames", type=int, default=300_000)
    parser.add_argument("--doom-seeds", type=int, default=1, help="Doom runs per env and framework (seeds 1..N)")
    parser.add_argument("--cartpole-frames", type=int, default=600_000)
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--limit", type=float, default=1800.0, help="seconds one training run may take")
    parser.add_argument("--no-anchor", action="store_true")
    parser.add_argument("--skip", default="", help="comma-separated of doom,doom-float32,cartpole,startup,envpool")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))

    print(f"load average: {load_average()}", flush=True)
    train_dir = Path(tempfile.mkdtemp(prefix="bench_targets_"))
    try:
        doom = doom_rows(args, train_dir) if "doom" not in skip else []
        cartpole = cartpole_row(args, train_dir) if "cartpole" not in skip else ({"wall_s": None}, None)
        startup = {}
        if "startup" not in skip:
            events = {"first sample": bench_startup.FIRST_SAMPLE, "first FPS report": bench_startup.FPS_REPORT}
            launch = {"sf": (lambda d: bench_startup.sf_command("CartPole-v1", d, []), None)}
            startup = bench_startup.measure(launch, events, args.startup_runs)
            if not args.no_anchor and bench_startup.ANCHOR_SCRIPT.exists():
                anchor = {"SF 2.1.1": (lambda d: bench_startup.anchor_command("CartPole-v1", d), None)}
                startup.update(bench_startup.measure(anchor, {"first FPS report": bench_startup.FPS_REPORT}, 2))
        envpool = envpool_row(args, train_dir) if "envpool" not in skip else (0.0, None)
    finally:
        shutil.rmtree(train_dir, ignore_errors=True)
    print_table(doom, cartpole, startup, envpool)
    return 0


if __name__ == "__main__":
    sys.exit(main())
