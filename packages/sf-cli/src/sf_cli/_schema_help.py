"""Commands that take every schema parameter as an option, and the help text that lists them by schema group.

Click does not declare the ~130 schema parameters one by one: a :class:`SchemaCommand` accepts unknown options and
hands them, untouched, to sf-config's own parser, so the spelling (``--learning_rate 3e-4``,
``--learning_rate=3e-4``) and the validation are exactly those of the Python API. Only ``--help`` is built here, from
:data:`sf_config.PARAMETERS` and :data:`sf_config.GROUPS`.
"""

from __future__ import annotations

from typing import Any

import click

from sf_config import GROUPS, Param, parameters_for

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


def _help_line(param: Param, cli_defaults: dict[str, str]) -> str:
    if param.name in cli_defaults:
        return f"{param.help} [default: {cli_defaults[param.name]}]"
    default = param.default
    if isinstance(default, list):
        default = " ".join(str(v) for v in default) or "[]"
    return f"{param.help} [default: {default}]"


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

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's own options, then every schema parameter under the title of its group."""
        super().format_options(ctx, formatter)
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
                formatter.write_dl([(f"--{p.name} {_metavar(p)}", _help_line(p, self.cli_defaults)) for p in params])


def schema_command(
    name: str, *, evaluation: bool = False, cli_defaults: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    """Decorator like :func:`click.command` that makes a :class:`SchemaCommand`."""
    return click.command(name, cls=SchemaCommand, evaluation=evaluation, cli_defaults=cli_defaults, **kwargs)
