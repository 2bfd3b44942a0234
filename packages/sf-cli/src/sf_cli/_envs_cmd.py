"""``sf-cli envs``: every env that can be trained, where it comes from, and its spaces when asked."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import warnings
from typing import Any

import click

from sf_cli._errors import reports_errors
from sf_cli._options import common_options
from sf_cli._resolve import import_env_modules
from sf_registry import EnvSpec, list_envs, make_env

SOURCES = ("registered", "entry point", "gymnasium")
"""Where an env can come from, as :attr:`sf_registry.EnvSpec.source` names it."""


def _spaces(spec: EnvSpec) -> dict[str, str]:
    """Makes the env once to read its spaces; an env that cannot be made reports why instead."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            env = make_env(spec.name)
    except Exception as exc:
        return {"error": f"cannot make it: {type(exc).__name__}: {exc}".splitlines()[0]}
    try:
        return {"observation_space": str(env.observation_space), "action_space": str(env.action_space)}
    finally:
        with contextlib.suppress(Exception):
            env.close()


@click.command("envs", short_help="List the envs that can be trained and where they come from.")
@click.argument("patterns", nargs=-1, metavar="[PATTERN]...")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(SOURCES),
    help="Only envs of this source (repeatable).",
)
@click.option("--spaces", is_flag=True, help="Make each listed env once and show its observation and action spaces.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list of {name, source, origin[, spaces]}.")
@common_options
@reports_errors
def envs_command(
    patterns: tuple[str, ...],
    sources: tuple[str, ...],
    spaces: bool,
    as_json: bool,
    env_modules: tuple[str, ...],
    **_: Any,
) -> None:
    """List every env sf can train: registered with register_env (in this process, e.g. by --env-module),
    declared by an installed package's `sf.envs` entry point, or known to gymnasium.

    PATTERN filters the names, shell style and case-insensitive (`sf-cli envs 'CartPole*'`; a pattern without
    wildcards matches as a substring).

    \b
    Examples:
      sf-cli envs
      sf-cli envs cartpole --spaces
      sf-cli envs --env-module my_pkg.envs --source registered
    """
    import_env_modules(env_modules)
    specs = list(list_envs())
    if sources:
        specs = [s for s in specs if s.source in sources]
    if patterns:
        specs = [s for s in specs if any(_matches(s.name, p) for p in patterns)]
    records: list[dict[str, Any]] = []
    for spec in specs:
        record: dict[str, Any] = {"name": spec.name, "source": spec.source, "origin": spec.origin}
        if spaces:
            record.update(_spaces(spec))
        records.append(record)
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    if not records:
        click.echo("No env matches." if patterns or sources else "No envs found.")
        return
    width = max(len(r["name"]) for r in records) + 2
    source_width = max(len(s) for s in SOURCES) + 2
    for r in records:
        click.echo(f"{r['name']:<{width}}{r['source']:<{source_width}}{r['origin']}")
        if "error" in r:
            click.echo(f"    {r['error']}")
        elif spaces:
            click.echo(f"    observation space: {r['observation_space']}")
            click.echo(f"    action space:      {r['action_space']}")
    click.echo(f"\n{len(records)} envs. Train one with: sf-cli train --env NAME", err=True)


def _matches(name: str, pattern: str) -> bool:
    name, pattern = name.lower(), pattern.lower()
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name
