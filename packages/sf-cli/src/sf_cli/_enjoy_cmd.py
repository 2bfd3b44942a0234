"""``sf-cli enjoy``: evaluates a trained experiment with the env and settings of its ``config.json``."""

from __future__ import annotations

import difflib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from sf_cli._console import setup_console_logging
from sf_cli._errors import BadInput
from sf_cli._options import schema_subcommand
from sf_cli._resolve import import_env_modules, partial_cfg, resolve_cfg
from sf_config import CONFIG_FILE, Config, config_path, experiment_dir, load_saved_config

CLI_STATE_FILE = ".sf_cli.json"  # written by train (sf_cli._observers.EnvModulesRecorder)


def _experiments_in(train_dir: Path) -> list[str]:
    if not train_dir.is_dir():
        return []
    return sorted(p.name for p in train_dir.iterdir() if (p / CONFIG_FILE).is_file())


def find_experiment(partial: Config) -> tuple[Path, dict[str, Any]]:
    """The experiment folder named by ``--experiment``/``--train_dir`` and its saved config.

    Raises:
        BadInput: No ``--experiment``, or no trained experiment of that name (listing the closest ones).
    """
    if partial.source_of("experiment") == "default":
        raise BadInput("--experiment is required: the name of a trained experiment under --train_dir")
    directory = experiment_dir(partial)
    saved = load_saved_config(partial)
    if saved is None:
        known = _experiments_in(Path(partial.train_dir))
        close = difflib.get_close_matches(partial.experiment, known, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        where = f" (experiments there: {', '.join(known[:10])})" if known and not close else ""
        raise BadInput(f"no trained experiment {partial.experiment!r} in {partial.train_dir}{hint}{where}")
    return directory, saved


def resolve_enjoy_cfg(args: Sequence[str], env_modules: Sequence[str]) -> Config:
    """The evaluation cfg: the env (and the modules that register it) come from the experiment when not given."""
    args = list(args)
    partial = partial_cfg(args, evaluation=True)
    directory, saved = find_experiment(partial)
    modules = list(env_modules)
    state_file = directory / CLI_STATE_FILE
    if not modules and state_file.is_file():
        modules = list(json.loads(state_file.read_text(encoding="utf-8")).get("env_modules", []))
    import_env_modules(modules)
    if partial.env is None:
        if not saved.get("env"):
            raise BadInput(f"{config_path(partial)} names no env; give --env")
        args = ["--env", str(saved["env"]), *args]
    return resolve_cfg(args, evaluation=True)


@schema_subcommand(
    "enjoy",
    click.option("-q", "--quiet", is_flag=True, help="Show only warnings and the result, not each episode."),
    evaluation=True,
    short_help="Evaluate a trained experiment.",
)
def enjoy_command(ctx: click.Context, quiet: bool, env_modules: tuple[str, ...], **_: Any) -> None:
    """Evaluate a trained experiment: run episodes with its latest (or best) checkpoint, render them or record a
    video, and print the average reward.

    The env and every setting come from the experiment's config.json; parameters given here override them.
    The evaluation parameters are listed at the end (max_num_episodes, save_video, eval_deterministic, ...).

    \b
    Examples:
      sf-cli enjoy --experiment cartpole --max_num_episodes 10 --no_render
      sf-cli enjoy --experiment cartpole --save_video --video_frames 500
      sf-cli enjoy --experiment cartpole --eval_deterministic --load_checkpoint_kind best

    Exit status: 0 success, 1 failure (e.g. no checkpoint), 2 bad input or interrupted.
    """
    from sf_runtime import enjoy

    cfg = resolve_enjoy_cfg(ctx.args, env_modules)
    handler = setup_console_logging(logging.WARNING if quiet else logging.INFO)
    try:
        result = enjoy(cfg)
    finally:
        logging.getLogger().removeHandler(handler)
    status = int(result)  # the runtime prints the average reward itself
    if status == 0 and cfg.save_video:
        click.echo(f"video: {experiment_dir(cfg) / (cfg.video_name or 'replay.mp4')}")
    ctx.exit(status)
