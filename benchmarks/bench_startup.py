"""Startup of a training run: seconds from launch to the first sample and to the first FPS report.

Run from the repository root::

    uv run python benchmarks/bench_startup.py              # 3 launches of the README's CartPole run
    uv run python benchmarks/bench_startup.py --runs 5 --anchor

Each launch runs the README's first command, ``sf-cli train --env CartPole-v1`` (the parallel runner, the defaults),
into a fresh temporary train dir, reads its log lines as they come and times, from the moment the process was
started:

- **first sample**: the line ``First samples arrived`` that the main process logs when a rollout worker first
  reports env frames (workers report their first frames at once, not after their usual 1 s);
- **first FPS report**: the first ``Fps is`` line (the lifecycle reports every 5 s, counted from the end of the
  startup, so this is about the first sample plus 5 s).

Then the run is stopped by Ctrl-C to its process group. With ``--anchor`` Sample Factory 2.1.1 (through
``../shared/bench/sf-anchor``) is launched the same way, and its first ``Fps is`` line is timed (it has no line for
the first sample). With ``--baseline DIR`` another checkout of sf (DIR holds its ``packages/``, e.g. from ``git
archive <commit> packages | tar -x -C DIR``) is timed too, its packages first on ``PYTHONPATH``, launches of the two
alternating so that both see the same load. The median of ``--runs`` launches is printed; the machine's load average
is printed too, since a busy machine stretches every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ANCHOR_SCRIPT = REPO.parent / "shared" / "bench" / "sf-anchor"
FIRST_SAMPLE = "First samples arrived"
FPS_REPORT = "Fps is"


def load_average() -> str:
    """The load average over 1, 5 and 15 minutes."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def sf_command(env: str, train_dir: Path, extra: list[str]) -> list[str]:
    """The README's training command (the venv's ``sf-cli``), with INFO lines so that the events can be seen."""
    cli = Path(sys.executable).with_name("sf-cli")
    return [str(cli), "train", "--env", env, "--experiment", "startup", "--train_dir", str(train_dir), "--verbose",
            "--progress", "none", *extra]  # fmt: skip


def anchor_command(env: str, train_dir: Path) -> list[str]:
    """Sample Factory 2.1.1's training of ``env`` with its defaults (through the anchor script)."""
    return [str(ANCHOR_SCRIPT), f"--env={env}", "--experiment=startup", f"--train_dir={train_dir}", "--device=cpu"]


def _stop_group(proc: subprocess.Popen) -> None:
    """Ctrl-C to the run's process group, then SIGKILL what is left after a while."""
    for sig, wait in ((signal.SIGINT, 60), (signal.SIGKILL, 10)):
        if proc.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def checkout_env(checkout: Path | None) -> dict[str, str] | None:
    """The environment that runs the sf of ``checkout`` (its packages first on PYTHONPATH); None: this checkout."""
    if checkout is None:
        return None
    src = [str(p) for p in sorted((checkout / "packages").glob("*/src"))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*src, os.environ.get("PYTHONPATH", "")])}


def time_launch(
    command: list[str], events: dict[str, str], env: dict[str, str] | None = None, limit_s: float = 180.0
) -> dict[str, float | None]:
    """Launches ``command`` and returns, per event name, the seconds until a line containing its text was read.

    The run is stopped once every event was seen (or after ``limit_s``).
    """
    start = time.monotonic()
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                            start_new_session=True, env=env)  # fmt: skip
    seen: dict[str, float | None] = dict.fromkeys(events)
    tail: list[str] = []
    all_seen = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line)
            del tail[:-30]
            for name, text in events.items():
                if seen[name] is None and text in line:
                    seen[name] = time.monotonic() - start
            if all(v is not None for v in seen.values()):
                all_seen.set()
        all_seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    all_seen.wait(limit_s)
    _stop_group(proc)
    reader.join(timeout=10)
    if any(v is None for v in seen.values()):
        print("a launch did not show every event; its last lines:\n" + "".join(tail[-15:]), flush=True)
    return seen


def measure(launchers: dict[str, tuple], events: dict[str, str], runs: int) -> dict[str, dict[str, float | None]]:
    """The median seconds per event over ``runs`` launches of each ``label: (make_command, env)``, alternating."""
    per_event: dict[str, dict[str, list[float]]] = {label: {name: [] for name in events} for label in launchers}
    for i in range(runs):
        for label, (make_command, env) in launchers.items():
            train_dir = Path(tempfile.mkdtemp(prefix="bench_startup_"))
            try:
                seen = time_launch(make_command(train_dir), events, env)
            finally:
                shutil.rmtree(train_dir, ignore_errors=True)
            print(f"{label} launch {i + 1}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in seen.items()), flush=True)
            for name, value in seen.items():
                if value is not None:
                    per_event[label][name].append(value)
    return {
        label: {name: statistics.median(values) if values else None for name, values in events_seen.items()}
        for label, events_seen in per_event.items()
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--runs", type=int, default=3, help="launches per framework (the median is printed)")
    parser.add_argument("--anchor", action="store_true", help="also time Sample Factory 2.1.1's first FPS report")
    parser.add_argument("--baseline", type=Path, help="also time the sf checkout in this folder (its packages/)")
    parser.add_argument("sf_args", nargs="*", help="extra sf-cli arguments (after --)")
    args = parser.parse_args(argv)

    print(f"load average: {load_average()} ({os.cpu_count()} cores)", flush=True)
    events = {"first sample": FIRST_SAMPLE, "first FPS report": FPS_REPORT}

    def command(train_dir: Path) -> list[str]:
        return sf_command(args.env, train_dir, args.sf_args)

    launchers = {"sf": (command, None)}
    if args.baseline is not None:
        launchers[f"sf at {args.baseline}"] = (command, checkout_env(args.baseline))
    rows = list(measure(launchers, events, args.runs).items())
    if args.anchor:
        if ANCHOR_SCRIPT.exists():
            launch = {"SF 2.1.1": (lambda d: anchor_command(args.env, d), None)}
            anchor = measure(launch, {"first FPS report": FPS_REPORT}, args.runs)
            rows += list(anchor.items())
        else:
            print(f"anchor skipped: {ANCHOR_SCRIPT} is missing")
    print(f"\n{args.env}, launch to ... (median of {args.runs}; load average now {load_average()})")
    width = max(12, *(len(label) + 2 for label, _ in rows))
    print(f"{'':<{width}}{'first sample':>14}{'first FPS report':>18}")
    for label, seen in rows:
        print(f"{label:<{width}}{_fmt(seen.get('first sample')):>14}{_fmt(seen.get('first FPS report')):>18}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
