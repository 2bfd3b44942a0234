"""``sf-cli train``: trains an agent, with every schema parameter as an option and live progress."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from sf_cli._console import StatusLine, setup_console_logging
from sf_cli._fork_server import start_fork_server, stop_fork_server
from sf_cli._options import schema_subcommand, seconds_option, verbose_option
from sf_cli._resolve import DEFAULT_ENV, TRAIN_HELP_DEFAULTS, command_args, import_env_modules, resolve_cfg
from sf_config import experiment_dir


def _module_reference(module: str) -> str:
    """A ``.py`` path as an absolute path (enjoy may run from another folder); dotted names as they are."""
    if module.endswith(".py") or "/" in module or "\\" in module:
        return str(Path(module).resolve())
    return module


def progress_mode(choice: str) -> str:
    """``bar`` on a terminal and ``lines`` otherwise, for ``auto``; the choice itself otherwise."""
    if choice != "auto":
        return choice
    return "bar" if sys.stderr.isatty() else "lines"


@schema_subcommand(
    "train",
    click.option(
        "--progress",
        type=click.Choice(["auto", "bar", "lines", "none"]),
        default="auto",
        show_default=True,
        help="Live progress on stderr: a bar on a terminal, plain periodic lines otherwise (auto), or nothing.",
    ),
    seconds_option(
        "--progress-interval",
        minimum=0.1,
        default=10.0,
        help="Seconds between progress lines when not drawing a bar.",
    ),
    verbose_option,
    cli_defaults=TRAIN_HELP_DEFAULTS,
    short_help="Train an agent (every schema parameter is an option).",
)
def train_command(
    ctx: click.Context,
    progress: str,
    progress_interval: float,
    verbose: bool,
    env_modules: tuple[str, ...],
    **_: Any,
) -> None:
    """Train an agent with APPO.

    Without --env the built-in default environment (CartPole-v1) is trained; without --experiment the experiment
    is named after the env. An existing experiment folder is resumed (see --restart_behavior). Envs come from
    register_env in a module named by --env-module, from installed packages' `sf.envs` entry points, or from
    gymnasium; the env's own parameters and default overrides apply.

    \b
    Examples:
      sf-cli train
      sf-cli train --env CartPole-v1 --experiment cartpole --learning_rate=3e-4 --train_for_env_steps 500000
      sf-cli train --env my_env --env-module my_pkg.envs --config my_env.toml

    Exit status: 0 success, 1 failure, 2 bad input or interrupted (a checkpoint is saved first).
    """
    import_env_modules(env_modules)
    cfg = resolve_cfg(command_args(ctx.args, default_env=DEFAULT_ENV, default_experiment=True))
    if cfg.serial_mode or cfg.distributed != "none":
        stop_fork_server()  # sf-cli may have started one before the configuration was known; this run uses none
    else:
        start_fork_server()  # unless running already: it imports torch for the children while this process does
    # torch is imported only now, so that bad input is reported at once
    from sf_cli._observers import EnvModulesRecorder, ProgressObserver
    from sf_runtime import run_rl

    mode = progress_mode(progress)
    status_line = StatusLine(sys.stderr) if mode == "bar" else None
    handler = setup_console_logging(logging.INFO if verbose else logging.WARNING, status_line)
    observers: list[Any] = [EnvModulesRecorder([_module_reference(m) for m in env_modules])]
    reporter = None
    if mode != "none":
        reporter = ProgressObserver(sys.stderr, bar=mode == "bar", interval=progress_interval, status=status_line)
        observers.append(reporter)
    click.echo(f"Training {cfg.env} into {experiment_dir(cfg)}", err=True)
    try:
        status = int(run_rl(cfg, observers=observers))
    finally:
        logging.getLogger().removeHandler(handler)
        if status_line is not None:
            status_line.finish()
    if status == 0:
        _print_next_steps(cfg)
    elif status == 2:
        click.echo("Interrupted; the latest checkpoint was saved. Run the same command again to resume.", err=True)
    elif (log_file := experiment_dir(cfg) / "sf_log.txt").is_file():
        click.echo(f"Training failed; see the log in {log_file}", err=True)
    else:
        click.echo("Training failed before the experiment directory was made (the error is above).", err=True)
    ctx.exit(status)


def _print_next_steps(cfg: Any) -> None:
    extra = "" if cfg.train_dir == "train_dir" else f" --train_dir {cfg.train_dir}"
    click.echo(f"Trained {cfg.env}: {experiment_dir(cfg)}")
    click.echo(f"  evaluate: sf-cli enjoy --experiment {cfg.experiment}{extra}")
    click.echo(f"  plot:     sf-cli plot {cfg.experiment}{extra}")
