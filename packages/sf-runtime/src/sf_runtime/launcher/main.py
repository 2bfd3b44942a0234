"""``python -m sample_factory.launcher.run``: Sample Factory's launcher command line, over :func:`run_sweep`.

::

    python -m sample_factory.launcher.run --run=sf_examples.mujoco.experiments.mujoco_all_envs \\
        --backend=processes --max_parallel=4 --pause_between=1 --experiments_per_gpu=4 --num_gpus=1

``sf-cli sweep`` is the same with sf-cli's conventions.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sf_runtime.launcher.sweep import BACKENDS, SweepError, run_sweep


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "y", "on"):
        return True
    if value in ("0", "false", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")


def launcher_parser() -> argparse.ArgumentParser:
    """The launcher's options (Sample Factory's names, plus sf's own ``--pin_cores``, ``--stop_timeout``,
    ``--cpus_per_run`` and ``--ray_address``)."""
    parser = argparse.ArgumentParser(
        prog="python -m sample_factory.launcher.run",
        description=(
            "Runs every run of a run description (a module with RUN_DESCRIPTION = RunDescription(...)), each in its "
            "own experiment directory under TRAIN_DIR/<run name>/. Runs that finished earlier are skipped, so "
            "running the same command again resumes a sweep. Exit status: 0 all finished, 1 a run failed, "
            "2 usage error or interrupted."
        ),
    )
    parser.add_argument("--run", required=True, help="module (as for python -m) or .py file with RUN_DESCRIPTION")
    parser.add_argument("--backend", default="processes", choices=BACKENDS, help="where the runs run")
    parser.add_argument("--runner", dest="backend", choices=BACKENDS, help=argparse.SUPPRESS)  # SF 1.x's name
    parser.add_argument("--train_dir", default="./train_dir", help="folder of the sweep's folder")
    parser.add_argument("--max_parallel", type=int, default=4, help="runs at a time")
    parser.add_argument("--pause_between", type=float, default=1.0, help="seconds between two starts")
    parser.add_argument("--num_gpus", type=int, default=1, help="GPUs to spread runs over; 0: the runs see no GPU")
    parser.add_argument(
        "--experiments_per_gpu", type=int, default=-1, help="runs per GPU at a time; <= 0 assigns no GPU"
    )
    parser.add_argument(
        "--pin_cores", type=_bool, default=True, help="(processes) cores of its own for each run when there are enough"
    )
    parser.add_argument("--stop_timeout", type=float, default=10.0, help="seconds from SIGINT to SIGKILL on Ctrl-C")
    parser.add_argument("--cpus_per_run", type=float, default=1.0, help="(ray) CPUs each run reserves")
    parser.add_argument("--ray_address", default=None, help="(ray) cluster to join; default: a new local one")
    return parser


def launcher_main(argv: Sequence[str] | None = None) -> int:
    """Parses the launcher's command line (``sys.argv[1:]`` by default), runs the sweep, returns the exit status."""
    args = launcher_parser().parse_args(argv)
    try:
        result = run_sweep(
            args.run,
            train_dir=args.train_dir,
            backend=args.backend,
            max_parallel=args.max_parallel,
            pause_between=args.pause_between,
            num_gpus=args.num_gpus,
            experiments_per_gpu=args.experiments_per_gpu,
            pin_cores=args.pin_cores,
            stop_timeout=args.stop_timeout,
            cpus_per_run=args.cpus_per_run,
            ray_address=args.ray_address,
        )
    except (SweepError, ValueError) as exc:
        print(f"launcher: error: {exc}", file=sys.stderr)
        return 2
    return result.exit_code
