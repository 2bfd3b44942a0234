"""``sf-cli sweep``: every run of a run description, on local processes or Ray (sf_runtime's :func:`run_sweep`).

The same launcher as ``python -m sample_factory.launcher.run --run=RUN``, with sf-cli's conventions (options in
either spelling, ``--dry-run``, one-line errors and the usual exit codes).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from sf_cli._errors import BadInput, reports_errors

# sf_runtime.launcher.BACKENDS, written here so that sf-cli starts without importing torch (tested to be equal).
BACKENDS = ("processes", "ray")


def _snake_and_kebab(name: str, kind: Any, default: Any, help_text: str) -> Any:
    """An option spelled both ``--snake_case`` (Sample Factory's launcher) and ``--kebab-case``."""
    return click.option(
        f"--{name}", f"--{name.replace('_', '-')}", name, type=kind, default=default, show_default=True, help=help_text
    )


def _print_plan(description: Any, train_dir: Path) -> None:
    from sf_runtime.launcher import STATUS_FILE, read_status

    runs = description.generate_runs(train_dir.absolute())
    click.echo(f"{description.run_name}: {len(runs)} runs in {runs[0].run_dir.parent}")
    for spec in runs:
        status = read_status(spec.run_dir)
        if status is None:
            state = "new"
        elif status.get("state") == "done" and status.get("exit_code") == 0:
            state = "finished"
        else:
            state = f"{status.get('state')} (exit {status.get('exit_code')}), runs again"
        click.echo(f"{spec.name}  [{state}]\n    {shlex.join(spec.argv)}")
    click.echo(f"(each run's state is in <its folder>/{STATUS_FILE}; nothing was run)")


@click.command("sweep", short_help="Run a sweep of experiments (a run description) on local processes or Ray.")
@click.argument("run", metavar="RUN")
@click.option("--backend", type=click.Choice(BACKENDS), default="processes", show_default=True, help="Where runs run.")
@click.option(
    "--train_dir",
    "--train-dir",
    "train_dir",
    default="train_dir",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the sweep's folder (TRAIN_DIR/<run name>/<run>/).",
)
@_snake_and_kebab("max_parallel", click.IntRange(min=1), 4, "At most this many runs at a time.")
@_snake_and_kebab("pause_between", click.FloatRange(min=0), 1.0, "Seconds between two starts.")
@_snake_and_kebab("num_gpus", click.IntRange(min=0), 1, "GPUs to spread the runs over; 0: the runs see no GPU.")
@_snake_and_kebab("experiments_per_gpu", int, -1, "Runs per GPU at a time; <= 0 assigns no GPU.")
@click.option(
    "--pin-cores/--no-pin-cores",
    "pin_cores",
    default=True,
    show_default=True,
    help="(processes) Cores of its own for each run, when there is at least one per parallel run.",
)
@_snake_and_kebab(
    "stop_timeout",
    click.FloatRange(min=0),
    10.0,
    "Seconds a run has to exit after Ctrl-C's SIGINT before it is killed.",
)
@_snake_and_kebab("cpus_per_run", click.FloatRange(min=0), 1.0, "(ray) CPUs each run reserves.")
@click.option("--ray_address", "--ray-address", "ray_address", help="(ray) Cluster to join. [default: a new local one]")
@click.option("--dry-run", is_flag=True, help="List the runs, their state and command lines; run nothing.")
@click.option("--debug", is_flag=True, help="Print the full traceback of an error.")
@reports_errors
def sweep_command(
    run: str,
    backend: str,
    train_dir: Path,
    max_parallel: int,
    pause_between: float,
    num_gpus: int,
    experiments_per_gpu: int,
    pin_cores: bool,
    stop_timeout: float,
    cpus_per_run: float,
    ray_address: str | None,
    dry_run: bool,
    debug: bool,
) -> None:
    """Run every unfinished run of RUN: a module (as for python -m, e.g. sf_examples.x.experiments.y) or a .py file
    that defines RUN_DESCRIPTION = RunDescription(...).

    Each run gets its own experiment directory, TRAIN_DIR/<run name>/<run>/, with its output in sweep_log.txt and its
    state in sweep_status.json. Runs that finished (exit code 0) are skipped, so the same command resumes a sweep:
    failed and interrupted runs run again and resume from their checkpoints. A failed run does not stop the others;
    the summary shows the end of its log. Ctrl-C stops the runs (SIGINT, SIGKILL after --stop_timeout seconds).

    \b
    Example:
      sf-cli sweep sf_examples.gym_classic.experiments.classic_seeds --max_parallel 2
      sf-cli sweep my_sweep.py --backend ray --cpus_per_run 2

    Exit status: 0 every run finished, 1 a run failed, 2 usage error or interrupted.
    """
    from sf_runtime import SweepError, run_sweep
    from sf_runtime.launcher import load_run_description

    try:
        description = load_run_description(run)
        if dry_run:
            _print_plan(description, train_dir)
            return
        result = run_sweep(
            description,
            train_dir=train_dir,
            backend=backend,
            max_parallel=max_parallel,
            pause_between=pause_between,
            num_gpus=num_gpus,
            experiments_per_gpu=experiments_per_gpu,
            pin_cores=pin_cores,
            stop_timeout=stop_timeout,
            cpus_per_run=cpus_per_run,
            ray_address=ray_address,
        )
    except SweepError as exc:
        raise BadInput(str(exc)) from None
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)
