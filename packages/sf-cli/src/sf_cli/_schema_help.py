"""Commands that take every schema parameter as an option, and the help text that lists them by schema group.

Click does not declare the ~130 schema parameters one by one: a :class:`SchemaCommand` accepts unknown options and
hands them, untouched, to sf-config's own parser, so the spelling (``--learning_rate 3e-4``,
``--learning_rate=3e-4``) and the validation are exactly those of the Python API. Only ``--help`` is built here, from
:data:`sf_config.PARAMETERS` and :data:`sf_config.GROUPS`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from sf_config import GROUPS, PARAMETERS, Param, parameters_for

RAW_ARGS_KEY = "sf_cli.raw_args"

_CONTEXT_SETTINGS = {
    "ignore_unknown_options": True,
    "allow_extra_args": True,
    "help_option_names": ["-h", "--help"],
    "max_content_width": 120,
}


def _metavar(param: Param) -> str:
    if param.choices:
        return "[" + "|".join(param.choices) + "]"
    if param.type is bool:
        return "[BOOL]"
    if param.type is list:
        return param.item_type.__name__.upper() + "..."
    return param.type.__name__.upper()


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value) or "[]"
    return str(value)


@dataclasses.dataclass
class EnvHelp:
    """What an env named on the command line changes in the help: its own parameters and its default overrides.

    Attributes:
        env: the env's name.
        defaults: the env's default overrides (``env_override_defaults_func``), name -> value.
        extras: the env's own parameters (``add_extra_params_func``): (option, metavar, help, default).
        error: why the env's hooks could not be run (the help then shows the schema alone).
    """

    env: str
    defaults: dict[str, Any] = dataclasses.field(default_factory=dict)
    extras: list[tuple[str, str, str, Any]] = dataclasses.field(default_factory=list)
    error: str | None = None


def _option_values(args: list[str], name: str) -> list[str]:
    values = []
    for i, token in enumerate(args):
        if token == name and i + 1 < len(args):
            values.append(args[i + 1])
        elif token.startswith(name + "="):
            values.append(token.split("=", 1)[1])
    return values


def env_help(args: list[str], evaluation: bool) -> EnvHelp | None:
    """The env given on a command line (``--env X``, or in a ``--config`` file) with its hooks run, as in
    :func:`sf_cli._resolve.resolve_cfg`; None when no env is given. Never raises: a problem is kept in ``error``."""
    from sf_cli._resolve import apply_env_hooks, import_env_modules
    from sf_config import parse_sf_args
    from sf_registry import env_spec

    env = (_option_values(args, "--env") or [None])[-1]
    try:
        import_env_modules(_option_values(args, "--env-module"))
        parser, partial = parse_sf_args([a for a in args if a not in ("-h", "--help")], evaluation=evaluation)
        env = partial.env or env
        if env is None:
            return None
        apply_env_hooks(env_spec(env, load=True), parser, evaluation)
    except Exception as exc:  # the help must still be shown
        return EnvHelp(env or "?", error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    result = EnvHelp(env, defaults=parser.env_layer())
    defaults = {**parser.default_layer(), **result.defaults}
    for name in parser.known_names():
        if name in PARAMETERS:
            continue
        action = parser.action_for(name)
        if action is None or not action.option_strings:
            continue
        metavar = action.metavar or (getattr(action.type, "__name__", "") or "VALUE").upper()
        if action.nargs in ("*", "+"):
            metavar += "..."
        text = (action.help or "").replace("%%", "%")
        result.extras.append((action.option_strings[-1], str(metavar), text, defaults.get(name)))
    return result


def _help_line(param: Param, cli_defaults: dict[str, str], env: EnvHelp | None = None) -> str:
    if param.name in cli_defaults:
        return f"{param.help} [default: {cli_defaults[param.name]}]"
    if env is not None and param.name in env.defaults:
        return (
            f"{param.help} [default: {_text(env.defaults[param.name])} (env {env.env}; schema: {_text(param.default)})]"
        )
    return f"{param.help} [default: {_text(param.default)}]"


class SchemaCommand(click.Command):
    """A Click command that passes every unknown option to sf-config and lists the schema in its ``--help``.

    Args:
        evaluation: Whether the evaluation parameters (``max_num_episodes``, ``save_video``, ...) are accepted.
        cli_defaults: Defaults this command uses instead of the schema's, as shown in the help (name -> text).
        **kwargs: Passed to :class:`click.Command`.
    """

    def __init__(
        self, *args: Any, evaluation: bool = False, cli_defaults: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        settings = dict(_CONTEXT_SETTINGS)
        settings.update(kwargs.pop("context_settings", None) or {})
        super().__init__(*args, context_settings=settings, **kwargs)
        self.evaluation = evaluation
        self.cli_defaults = dict(cli_defaults or {})

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Keeps the raw arguments for the help (``--env X --help`` shows env X's parameters and defaults)."""
        ctx.meta[RAW_ARGS_KEY] = list(args)
        return super().parse_args(ctx, args)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's own options, then the env's own parameters (with ``--env``), then every schema parameter under the
        title of its group, with the env's default overrides as defaults."""
        super().format_options(ctx, formatter)
        env = env_help(ctx.meta.get(RAW_ARGS_KEY, []), self.evaluation)
        if env is not None and env.error is not None:
            formatter.write_paragraph()
            formatter.write_text(f"(--env {env.env}: its parameters and defaults cannot be shown: {env.error})")
        elif env is not None:
            formatter.write_paragraph()
            with formatter.section(f"Parameters of env {env.env} (its add_extra_params_func)"):
                if env.extras:
                    formatter.write_dl(
                        [(f"{o} {m}", f"{h} [default: {_text(d)}]".strip()) for o, m, h, d in env.extras]
                    )
                else:
                    formatter.write_text("(none)")
            if env.defaults:
                names = ", ".join(sorted(env.defaults))
                formatter.write_paragraph()
                formatter.write_text(
                    f"Defaults of env {env.env} (its env_override_defaults_func) are shown as the defaults: {names}."
                )
        by_group: dict[str, list[Param]] = {}
        for param in parameters_for(self.evaluation):
            by_group.setdefault(param.group, []).append(param)
        formatter.write_paragraph()
        formatter.write_text(
            "Parameters (as in the Python API: --name value or --name=value; --config FILE layers a TOML or JSON "
            "file of them; the env's own parameters are accepted too):"
        )
        for group, title in GROUPS.items():
            params = by_group.get(group)
            if not params:
                continue
            with formatter.section(title):
                formatter.write_dl(
                    [(f"--{p.name} {_metavar(p)}", _help_line(p, self.cli_defaults, env)) for p in params]
                )


def schema_command(
    name: str, *, evaluation: bool = False, cli_defaults: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    """Decorator like :func:`click.command` that makes a :class:`SchemaCommand`."""
    return click.command(name, cls=SchemaCommand, evaluation=evaluation, cli_defaults=cli_defaults, **kwargs)
