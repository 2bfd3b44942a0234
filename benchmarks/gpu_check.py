"""GPU run: sf and Sample Factory 2.1.1 (the anchor) on the same envs and settings, with the learner on the GPU.

Run from the repository root on a machine with a CUDA GPU::

    uv run python benchmarks/gpu_check.py                       # CartPole, Atari Breakout, doom_basic; ~15 minutes
    uv run python benchmarks/gpu_check.py --envs cartpole --seconds 60 --compile

For each env, sf's training FPS and the anchor's are measured the same way as in ``bench_vizdoom.py`` (from the runs'
``Total num frames`` progress lines, over ``--seconds`` after ``--warmup`` counted from the first frames), with equal
flags and ``--device=gpu``, and the table prints both and their ratio:

- **cartpole**: CartPole-v1 with the default model (the 512x512 MLP encoder), the anchor's CPU-comparison flags
  (``--use_rnn=False --recurrence=1 --batch_size=512 --reward_scale=0.1``); sf through ``sf-cli train``, the anchor
  through ``../shared/bench/sf_anchor_train.py``;
- **breakout** (a pixel env): each framework's own ``sf_examples.atari.train_atari --env=atari_breakout`` (needs
  ale-py in both environments);
- **doom_basic**: each framework's own ``sf_examples.vizdoom.train_vizdoom --env=doom_basic`` (needs vizdoom in both).

``--compile`` adds an sf row per env with ``--torch_compile=both``. The anchor runs with the venv that
``../shared/bench/sf-anchor`` builds (``${XDG_CACHE_HOME:-~/.cache}/sf-anchor/venv``); where it is missing, or lacks
an env's simulator and cannot install it (no network), its row says so and sf still runs. Without a GPU the script
stops at once, saying so (``--device=cpu`` tries the script out on a CPU). It prints the GPU, the CPU count and the
load average first.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_vizdoom import REPO, anchor_python, load_average, run_training

ANCHOR_TRAIN = REPO.parent / "shared" / "bench" / "sf_anchor_train.py"
CARTPOLE_FLAGS = ["--use_rnn=False", "--recurrence=1", "--batch_size=512", "--reward_scale=0.1"]
ENVS = {
    # name: (sf command without flags, anchor command without flags, module the env needs, env flags)
    "cartpole": (["-m", "sf_cli", "train", "--verbose", "--progress", "none"], [str(ANCHOR_TRAIN)], None,
                 ["--env=CartPole-v1", *CARTPOLE_FLAGS]),
    "breakout": (["-m", "sf_examples.atari.train_atari"], ["-m", "sf_examples.atari.train_atari"], "ale_py",
                 ["--env=atari_breakout"]),
    "doom_basic": (["-m", "sf_examples.vizdoom.train_vizdoom"], ["-m", "sf_examples.vizdoom.train_vizdoom"], "vizdoom",
                   ["--env=doom_basic"]),
}  # fmt: skip


def gpu_name() -> str | None:
    """The first CUDA device's name, or None without one."""
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def anchor_has(python: Path, module: str | None) -> bool:
    """Whether the anchor venv can import ``module`` (pip-installing it once when it cannot)."""
    if module is None:
        return True
    check = [str(python), "-c", f"import {module}"]
    if subprocess.run(check, capture_output=True).returncode == 0:
        return True
    package = {"ale_py": "ale-py", "vizdoom": "vizdoom<2"}[module]
    subprocess.run([str(python), "-m", "pip", "install", "-q", package], capture_output=True)
    return subprocess.run(check, capture_output=True).returncode == 0


def common_flags(args: argparse.Namespace, experiment: str, train_dir: Path) -> list[str]:
    return [
        f"--experiment={experiment}",
        f"--train_dir={train_dir}",
        f"--device={args.device}",
        f"--num_workers={args.workers}",
        f"--num_envs_per_worker={args.envs_per_worker}",
        f"--train_for_seconds={int(args.warmup + args.seconds + 600)}",  # a backstop: the bench stops the run
        "--train_for_env_steps=10000000000",
    ]


def measure_env(name: str, args: argparse.Namespace, train_dir: Path) -> list[tuple[str, dict | None, str]]:
    """Rows ``(label, result, note)`` of one env: sf, sf with torch_compile (``--compile``) and the anchor."""
    sf_cmd, anchor_cmd, needs, env_flags = ENVS[name]
    rows: list[tuple[str, dict | None, str]] = []
    if needs is not None and importlib.util.find_spec(needs) is None:
        return [("sf", None, f"{needs} is not installed here")]
    variants = [("sf", [])] + ([("sf torch_compile=both", ["--torch_compile=both"])] if args.compile else [])
    for label, extra in variants:
        flags = common_flags(args, f"sf_{name}_{len(rows)}", train_dir)
        command = [sys.executable, *sf_cmd, *env_flags, *flags, *extra]
        rows.append((label, run_training(command, args.seconds, args.warmup, REPO, label), ""))
    python = anchor_python()
    if args.no_anchor:
        return rows
    if not python.exists() or not ANCHOR_TRAIN.exists():
        rows.append(("SF 2.1.1", None, f"no anchor venv at {python}"))
    elif not anchor_has(python, needs):
        rows.append(("SF 2.1.1", None, f"the anchor venv lacks {needs} and could not install it"))
    else:
        command = [str(python), *anchor_cmd, *env_flags, *common_flags(args, f"anchor_{name}", train_dir)]
        rows.append(("SF 2.1.1", run_training(command, args.seconds, args.warmup, REPO, "SF 2.1.1"), ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", default="cartpole,breakout,doom_basic", help=f"comma-separated, of {list(ENVS)}")
    parser.add_argument("--workers", type=int, default=max(2, min(16, (os.cpu_count() or 4) - 2)))
    parser.add_argument("--envs-per-worker", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=90.0, help="FPS window of each training run")
    parser.add_argument("--warmup", type=float, default=30.0, help="after the first frames (torch_compile needs it)")
    parser.add_argument("--compile", action="store_true", help="add sf rows with --torch_compile=both")
    parser.add_argument("--no-anchor", action="store_true", help="sf only")
    parser.add_argument("--device", default="gpu", choices=("gpu", "cpu"), help="cpu: try the script out without a GPU")
    args = parser.parse_args(argv)

    gpu = gpu_name() if args.device == "gpu" else "none (--device=cpu: a dry run of the script)"
    if gpu is None:
        print("no CUDA GPU here: this check needs one (the CPU figures are benchmarks/bench_throughput.py's)")
        return 1
    print(f"GPU: {gpu}; {os.cpu_count()} CPUs; load average {load_average()}", flush=True)
    print(f"settings: {args.workers} workers x {args.envs_per_worker} envs, --device={args.device}", flush=True)
    train_dir = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    table: list[tuple[str, str, dict | None, str]] = []
    try:
        for name in args.envs.split(","):
            for label, result, note in measure_env(name.strip(), args, train_dir):
                table.append((name, label, result, note))
                print(f"{name} {label}: {result or note}", flush=True)
    finally:
        shutil.rmtree(train_dir, ignore_errors=True)

    print(f"\nload average at the end: {load_average()}")
    print(f"{'env':<12}{'run':<24}{'FPS':>12}{'sf / SF 2.1.1':>16}")
    for name, label, result, note in table:
        fps = (result or {}).get("fps")
        anchor = next((r for n, lab, r, _ in table if n == name and lab == "SF 2.1.1"), None)
        ratio = f"{fps / anchor['fps']:.2f}" if fps and anchor and anchor.get("fps") and label != "SF 2.1.1" else ""
        shown = f"{fps:,.0f}" if fps else (note or (result or {}).get("error", "failed")[-60:])
        print(f"{name:<12}{label:<24}{shown:>12}{ratio:>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
