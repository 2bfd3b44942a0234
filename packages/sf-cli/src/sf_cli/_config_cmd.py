"""``sf-cli config``: the fully resolved configuration, each value with the layer that set it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from sf_cli._options import schema_subcommand
from sf_cli._resolve import DEFAULT_ENV, TRAIN_HELP_DEFAULTS, command_args, import_env_modules, resolve_cfg
from sf_config import GROUPS, PARAMETERS, Config, layer_saved_config

_HIDDEN_KEYS = frozenset({"cli_args", "command_line"})
EXTRA_GROUP = "env"
"""Group shown for parameters outside the schema (the env's own arguments)."""


def resolved_train_cfg(args: Sequence[str]) -> Config:
    """The cfg ``sf-cli train`` would run with these arguments, the saved config of a resumed experiment included."""
    return layer_saved_config(resolve_cfg(command_args(args, default_env=DEFAULT_ENV, default_experiment=True)))


def config_rows(cfg: Config) -> list[dict[str, Any]]:
    """One row per parameter (schema order, then the env's own): name, value, source, group."""
    rows = []
    names = [n for n in PARAMETERS if n in cfg] + sorted(
        k for k in cfg if k not in PARAMETERS and k not in _HIDDEN_KEYS
    )
    for name in names:
        param = PARAMETERS.get(name)
        group = param.group if param is not None else EXTRA_GROUP
        rows.append({"name": name, "value": cfg[name], "source": cfg.source_of(name), "group": group})
    return rows


def _toml_value(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | list):
        return json.dumps(value)
    return repr(value)


def format_config(rows: list[dict[str, Any]]) -> str:
    """Text form: ``[group]`` sections of ``name = value  # source`` lines (close to a TOML config file)."""
    lines: list[str] = []
    titles = {**GROUPS, EXTRA_GROUP: "The env's own parameters"}
    width = max((len(r["name"]) + len(_toml_value(r["value"])) for r in rows), default=0) + 3
    for group, title in titles.items():
        group_rows = [r for r in rows if r["group"] == group]
        if not group_rows:
            continue
        if lines:
            lines.append("")
        lines.append(f"[{group}]  # {title}")
        for r in group_rows:
            assignment = f"{r['name']} = {_toml_value(r['value'])}"
            lines.append(f"{assignment:<{width}}  # {r['source']}")
    return "\n".join(lines)


@schema_subcommand(
    "config",
    click.option("--changed", is_flag=True, help="Show only the values that differ from the schema defaults."),
    click.option("--json", "as_json", is_flag=True, help="Print JSON: {name: {value, source, group}}."),
    cli_defaults=TRAIN_HELP_DEFAULTS,
    short_help="Show the resolved configuration and the layer that set each value.",
)
def config_command(ctx: click.Context, changed: bool, as_json: bool, env_modules: tuple[str, ...], **_: Any) -> None:
    """Print the configuration `sf-cli train` would use with the same arguments.

    Every value is shown with the layer that set it: default (the schema), env (the env's default overrides),
    file (--config FILE), saved (the config.json of the experiment being resumed), cli (the command line).
    Without --env the built-in default env (CartPole-v1) is used, as by train.

    \b
    Examples:
      sf-cli config --env CartPole-v1 --learning_rate 3e-4 --changed
      sf-cli config --env CartPole-v1 --config my.toml --json
    """
    import_env_modules(env_modules)
    cfg = resolved_train_cfg(ctx.args)
    rows = config_rows(cfg)
    if changed:
        rows = [r for r in rows if r["source"] != "default"]
    if as_json:
        data = {r["name"]: {"value": r["value"], "source": r["source"], "group": r["group"]} for r in rows}
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(format_config(rows))
