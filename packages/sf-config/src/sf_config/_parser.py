"""`SFArgumentParser`: an argparse parser that knows the schema, its groups and which arguments were given."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from sf_config._errors import ConfigError, did_you_mean
from sf_config._param import Param
from sf_config._schema import GROUPS, PARAMETERS, parameters_for

HELP_DEST = "help"
CONFIG_DEST = "config_files"
META_DESTS = frozenset({HELP_DEST, CONFIG_DEST})


class _SchemaAction(argparse.Action):
    """Stores a schema parameter, converting the command-line tokens with the parameter's own rules."""

    def __init__(self, option_strings: list[str], dest: str, param: Param, **kwargs: Any):
        self.param = param
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        try:
            value = self.param.parse_tokens(values, f" (from {option_string})")
        except ConfigError as exc:
            raise argparse.ArgumentError(None, str(exc)) from None
        setattr(namespace, self.dest, value)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    def __init__(self, prog: str):
        super().__init__(prog, max_help_position=40, width=120)


def _metavar(param: Param) -> str:
    if param.choices:
        return "{" + ",".join(param.choices) + "}"
    if param.type is bool:
        return "BOOL"
    if param.type is list:
        return param.item_type.__name__.upper()
    return param.type.__name__.upper()


class SFArgumentParser(argparse.ArgumentParser):
    """The parser of :func:`sf_config.parse_sf_args`: every schema parameter as ``--name``, listed by group.

    Scripts extend it the argparse way: ``parser.add_argument("--custom_argument", ...)`` adds a parameter that lands in
    the cfg, and ``parser.set_defaults(...)`` sets env defaults (the ``"env"`` layer). Abbreviated option names are
    refused, so a typo is reported instead of silently matching a longer name.

    Attributes:
        evaluation: Whether the evaluation parameters are present.
    """

    def __init__(self, evaluation: bool = False, prog: str | None = None, description: str | None = None):
        super().__init__(
            prog=prog,
            description=description or "sf: asynchronous PPO (APPO) at high throughput. Parameters by group:",
            usage="%(prog)s --env ENV [--config FILE] [--name value ...]  (-h lists every parameter)",
            add_help=False,
            allow_abbrev=False,
            formatter_class=_HelpFormatter,
        )
        self.evaluation = evaluation
        self._env_defaults: dict[str, Any] = {}
        self._initial_defaults: dict[str, Any] = {}
        self._raise_errors = False
        meta = self.add_argument_group("options")
        meta.add_argument(
            "-h",
            "--help",
            action="store_true",
            dest=HELP_DEST,
            default=argparse.SUPPRESS,
            help="Show this help and exit.",
        )
        meta.add_argument(
            "--config",
            action="append",
            dest=CONFIG_DEST,
            default=argparse.SUPPRESS,
            metavar="FILE",
            help="TOML or JSON file of parameter values (repeatable; later files win; command-line arguments win "
            "over files).",
        )
        groups = {name: self.add_argument_group(title) for name, title in GROUPS.items()}
        for param in parameters_for(evaluation):
            kwargs: dict[str, Any] = {"nargs": "*"} if param.type is list else {}
            if param.type is bool:
                kwargs = {"nargs": "?", "const": "true"}
            groups[param.group].add_argument(
                f"--{param.name}",
                action=_SchemaAction,
                param=param,
                default=param.default,
                metavar=_metavar(param),
                help=param.help.replace("%", "%%"),
                **kwargs,
            )

    # --- argparse API ---------------------------------------------------------------------------------------------

    def set_defaults(self, **kwargs: Any) -> None:
        """Sets env defaults: they override the schema defaults and are overridden by files, saved config and CLI.

        Evaluation-only parameters are ignored when the parser is not in evaluation mode, so that one env hook can
        serve training and evaluation.

        Raises:
            ConfigError: For a name that is neither a schema parameter nor an added argument (with a did-you-mean),
                or a value of the wrong type.
        """
        known = self.known_names()
        for key, value in kwargs.items():
            param = PARAMETERS.get(key)
            if param is not None and param.evaluation and not self.evaluation:
                continue
            if key not in known:
                raise ConfigError(
                    f"set_defaults: unknown parameter {key}" + did_you_mean(key, known) + " (add_argument it first)"
                )
            if param is not None:
                value = param.coerce(value, " (from set_defaults)")
            action = self.action_for(key)
            if action is not None:
                self._initial_defaults.setdefault(key, action.default)
            self._env_defaults[key] = value
            super().set_defaults(**{key: value})

    def error(self, message: str) -> NoReturn:
        """Reports a command-line error; adds did-you-mean suggestions for unrecognized arguments.

        Inside :func:`sf_config.parse_full_cfg` the error is raised as :class:`~sf_config.ConfigError`; when a script
        calls ``parse_args`` itself, argparse's usual behaviour (usage, message, exit status 2) is kept.
        """
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            message = "; ".join(self.unknown_argument_messages(message[len(prefix) :].split()))
        if self._raise_errors:
            raise ConfigError(message)
        super().error(message)

    # --- sf additions -----------------------------------------------------------------------------------------------

    def known_names(self) -> list[str]:
        """Parameter names this parser accepts: the schema's (for its mode) and every added argument's."""
        return [a.dest for a in self._actions if a.dest not in META_DESTS and a.dest != argparse.SUPPRESS]

    def action_for(self, name: str) -> argparse.Action | None:
        """The argparse action that stores ``name``, or None."""
        for action in self._actions:
            if action.dest == name:
                return action
        return None

    def unknown_argument_messages(self, tokens: Sequence[str]) -> list[str]:
        """One message per unrecognized option (with a did-you-mean when a name is close) or stray value.

        The value after an unknown ``--name value`` is taken as that option's value, not as a second problem.
        """
        options = [s.lstrip("-") for a in self._actions for s in a.option_strings]
        messages, after_option = [], False
        for token in tokens:
            if token.startswith("-") and not _is_number(token):
                name = token.split("=", 1)[0].lstrip("-")
                messages.append(f"unknown parameter --{name}" + did_you_mean(name, options, "--"))
                after_option = "=" not in token
            elif after_option:
                after_option = False
            else:
                messages.append(f"unexpected argument {token!r} (parameters are given as --name value or --name=value)")
        return messages

    def default_layer(self) -> dict[str, Any]:
        """Each parameter's default before any ``set_defaults``: the schema's, or the script's ``add_argument``."""
        layer: dict[str, Any] = {}
        for action in self._actions:
            if action.dest in META_DESTS or action.dest == argparse.SUPPRESS:
                continue
            if isinstance(action, _SchemaAction):
                layer[action.dest] = action.param.default
            else:
                default = self._initial_defaults.get(action.dest, action.default)
                layer[action.dest] = self.convert_extra(action, default)
        return layer

    def env_layer(self) -> dict[str, Any]:
        """The values given to ``set_defaults`` (converted)."""
        layer = {}
        for key, value in self._env_defaults.items():
            action = self.action_for(key)
            is_extra = action is not None and not isinstance(action, _SchemaAction)
            layer[key] = self.convert_extra(action, value) if is_extra else value
        return layer

    def convert_extra(self, action: argparse.Action, value: Any) -> Any:
        """Converts a string value of a script-added argument with its ``type``, as argparse does for defaults."""
        if isinstance(value, str) and callable(action.type):
            try:
                return action.type(value)
            except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
                raise ConfigError(f"{action.dest}: cannot convert {value!r}: {exc}") from None
        return value

    def parse_explicit(self, argv: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
        """Parses only what ``argv`` states explicitly.

        Returns:
            (explicit values by name, meta options included; tokens argparse did not recognize).

        Raises:
            ConfigError: For a malformed or wrongly typed argument.
        """
        saved_action_defaults = [(a, a.default) for a in self._actions]
        saved_defaults = dict(self._defaults)
        for action, default in saved_action_defaults:
            self._initial_defaults.setdefault(action.dest, default)
            action.default = argparse.SUPPRESS
        self._defaults.clear()
        self._raise_errors = True
        try:
            namespace, extras = self.parse_known_args(list(argv))
        except argparse.ArgumentError as exc:  # exit_on_error=False paths
            raise ConfigError(str(exc)) from None
        finally:
            self._raise_errors = False
            self._defaults.update(saved_defaults)
            for action, default in saved_action_defaults:
                action.default = default
        return vars(namespace), extras

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """argparse's ``add_argument``; the argument's default becomes its ``"default"`` layer."""
        action = super().add_argument(*args, **kwargs)
        self._initial_defaults.setdefault(action.dest, action.default)
        return action


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def resolve_argv(argv: Sequence[str] | None) -> list[str]:
    """``sys.argv[1:]`` when ``argv`` is None, else a list copy of it."""
    return list(sys.argv[1:] if argv is None else argv)
