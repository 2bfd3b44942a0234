"""Layered resolution: the spec's `parse_sf_args` / `parse_full_cfg`, `make_cfg` and `with_saved_config`."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from sf_config._config import PROVENANCE_KEY, Config
from sf_config._errors import ConfigError, unknown_parameter
from sf_config._files import load_config_file
from sf_config._layers import RANK
from sf_config._parser import CONFIG_DEST, HELP_DEST, SFArgumentParser, resolve_argv
from sf_config._schema import PARAMETERS, RESERVED_KEYS
from sf_config._validate import resolve_automatic_values, restore_automatic_values, validate_cfg


def parse_sf_args(argv: Sequence[str] | None = None, evaluation: bool = False) -> tuple[SFArgumentParser, Config]:
    """Builds the parser of every schema parameter and a first, partial reading of the command line.

    The partial cfg tells a script which env was asked for (``partial_cfg.env``), so it can add the env's own
    arguments and defaults to the parser before :func:`parse_full_cfg`. Arguments the parser does not know yet are
    ignored here, and nothing is validated.

    Args:
        argv: Command-line arguments without the program name; None reads ``sys.argv[1:]``.
        evaluation: Add the evaluation parameters (``fps``, ``save_video``, ...).

    Returns:
        (parser, partial_cfg).

    Raises:
        ConfigError: When a known argument has a wrong value.
    """
    parser = SFArgumentParser(evaluation=evaluation)
    args = resolve_argv(argv)
    explicit, _unknown = parser.parse_explicit(args)
    files = explicit.pop(CONFIG_DEST, [])
    explicit.pop(HELP_DEST, None)
    layers = [("default", parser.default_layer())]
    layers += [("file", _file_layer(parser, f, strict=False)) for f in files]  # custom arguments come later
    layers.append(("cli", explicit))
    partial = _merge(layers)
    partial.set("cli_args", explicit, "cli")
    return parser, partial


def parse_full_cfg(parser: SFArgumentParser, argv: Sequence[str] | None = None) -> Config:
    """Resolves the final cfg from every layer and validates it.

    Layers, lowest to highest: schema defaults (and the defaults of arguments a script added), env defaults
    (``parser.set_defaults``), ``--config`` files in order, then the arguments given on the command line.
    The experiment's saved ``config.json`` is layered in later (:func:`sf_config.layer_saved_config`, called by
    ``run_rl`` and ``enjoy`` before anything of the run is built).

    ``-h``/``--help`` prints every parameter by group and exits with status 0.

    Args:
        parser: The parser from :func:`parse_sf_args`, possibly extended by the script.
        argv: Command-line arguments; None reads ``sys.argv[1:]``.

    Returns:
        The validated cfg; ``cfg.cli_args`` holds the explicit arguments.

    Raises:
        ConfigError: Unknown parameter (with a did-you-mean), wrong type, value outside its choices, missing
            ``--env``, or a violated cross-parameter rule.
    """
    if not isinstance(parser, SFArgumentParser):
        raise TypeError(f"parse_full_cfg needs the parser returned by parse_sf_args, got {type(parser).__name__}")
    cfg = _resolve(parser, resolve_argv(argv), code=None)
    if cfg.env is None:
        raise ConfigError("--env is required: the name of a registered environment or a gymnasium id")
    return validate_cfg(cfg)


def make_cfg(argv: Sequence[str] | None = None, evaluation: bool = False, **overrides: Any) -> Config:
    """Builds a validated cfg in code: schema defaults < ``argv`` (optional) < ``overrides``.

    Unlike the command-line functions, ``argv=None`` here means *no* command-line arguments (``sys.argv`` is never
    read) and ``env`` may stay None.

    Example:
        >>> cfg = make_cfg(env="CartPole-v1", experiment="t", serial_mode=True, use_rnn=False)
        >>> cfg.recurrence, cfg.source_of("use_rnn")
        (1, 'code')

    Args:
        argv: Optional command-line arguments, resolved as the ``"file"`` (``--config``) and ``"cli"`` layers.
        evaluation: Include the evaluation parameters.
        **overrides: Parameter values, recorded as the ``"code"`` layer.

    Raises:
        ConfigError: Unknown parameter (with a did-you-mean), wrong type or value, or a violated cross-parameter rule.
    """
    parser = SFArgumentParser(evaluation=evaluation)
    cfg = _resolve(parser, list(argv or []), code=overrides)
    return validate_cfg(cfg)


def default_cfg(algo: str = "APPO", env: str = "env", experiment: str = "test") -> Config:
    """The full default configuration, for code that needs a cfg but has no command line (Sample Factory 2's).

    Every schema parameter has its default, except the three given here (recorded as the ``"code"`` layer).
    Evaluation parameters are not included. Useful to make an env outside training:
    ``create_env("my_env", cfg=default_cfg(env="my_env"))``.

    Example:
        >>> cfg = default_cfg(env="CartPole-v1")
        >>> cfg.algo, cfg.env, cfg.experiment, cfg.gamma
        ('APPO', 'CartPole-v1', 'test', 0.99)

    Args:
        algo: The algorithm (sf trains with ``"APPO"``).
        env: The env name.
        experiment: The experiment name.

    Returns:
        The validated cfg.

    Raises:
        ConfigError: A value has the wrong type.
    """
    return make_cfg(algo=algo, env=env, experiment=experiment)


def with_saved_config(cfg: Config, saved: Mapping[str, Any]) -> Config:
    """Layers the experiment's saved ``config.json`` into a cfg (when resuming or evaluating).

    Saved values replace those that came from the defaults, env defaults and config files; values given on the
    command line (``cfg.cli_args``) or set in code stay. Saved keys the cfg does not know (a script's own arguments)
    are kept. Evaluation parameters of the saved config are taken only when ``cfg`` has them. The parameters that
    locate the experiment and decide what happens to it (``train_dir``, ``experiment``, ``restart_behavior``) always
    keep the current run's values: a moved experiment folder is found where it is, and a saved
    ``restart_behavior=overwrite`` can never wipe the experiment being resumed.

    Args:
        cfg: The cfg resolved from the command line.
        saved: The loaded ``config.json`` (a mapping, or a cfg).

    Returns:
        A new validated cfg; ``cfg`` is not changed.

    Raises:
        ConfigError: When a saved value has a wrong type or the combination breaks a cross-parameter rule.
    """
    result = cfg.copy()
    restore_automatic_values(result)
    explicit = set(cfg.cli_args)
    for key, value in dict(saved).items():
        if key in RESERVED_KEYS or key in RUN_LOCAL or key == PROVENANCE_KEY:
            continue
        param = PARAMETERS.get(key)
        if param is not None and param.evaluation and key not in cfg:
            continue
        if key in explicit or (key in cfg and RANK[cfg.source_of(key)] > RANK["saved"]):
            continue
        try:
            result.set(key, value, "saved")
        except ConfigError as exc:
            raise ConfigError([f"saved config: {p}" for p in exc.problems]) from None
    resolve_automatic_values(result)
    return validate_cfg(result)


RUN_LOCAL = frozenset({"train_dir", "experiment", "restart_behavior"})
"""Parameters a saved config.json never overrides (see :func:`with_saved_config`)."""


# --- internals -----------------------------------------------------------------------------------------------------


def _resolve(parser: SFArgumentParser, args: list[str], code: Mapping[str, Any] | None) -> Config:
    explicit, unknown = parser.parse_explicit(args)
    if unknown:
        raise ConfigError(parser.unknown_argument_messages(unknown))
    if explicit.pop(HELP_DEST, False):
        parser.print_help()
        sys.exit(0)
    files = explicit.pop(CONFIG_DEST, [])
    layers: list[tuple[str, Mapping[str, Any]]] = [("default", parser.default_layer()), ("env", parser.env_layer())]
    layers += [("file", _file_layer(parser, f)) for f in files]
    layers.append(("cli", explicit))
    if code:
        layers.append(("code", _code_layer(parser, code)))
    cfg = _merge(layers)
    cfg.set("cli_args", explicit, "cli")
    cfg.set("command_line", shlex.join(args), "cli")
    resolve_automatic_values(cfg)
    return cfg


def _merge(layers: Sequence[tuple[str, Mapping[str, Any]]]) -> Config:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for layer, mapping in layers:
        for key, value in mapping.items():
            values[key] = value
            sources[key] = layer
    return Config(values, sources)


def _file_layer(parser: SFArgumentParser, path: str, strict: bool = True) -> dict[str, Any]:
    data = load_config_file(path)
    known = parser.known_names()
    layer: dict[str, Any] = {}
    problems = []
    for key, value in data.items():
        if key in RESERVED_KEYS or key == PROVENANCE_KEY:
            continue  # a config.json written by sf can be used as a config file
        param = PARAMETERS.get(key)
        if param is not None and param.evaluation and not parser.evaluation:
            continue  # one file may serve training and evaluation
        if key not in known:
            if strict:
                problems.append(unknown_parameter(key, known, prefix="", where=f" in config file {path}"))
            continue
        action = parser.action_for(key)
        if param is not None:
            try:
                layer[key] = param.coerce(value, f" (in config file {path})")
            except ConfigError as exc:
                problems.extend(exc.problems)
        else:
            layer[key] = parser.convert_extra(action, value)
    if problems:
        raise ConfigError(problems)
    return layer


def _code_layer(parser: SFArgumentParser, code: Mapping[str, Any]) -> dict[str, Any]:
    known = parser.known_names()
    problems = []
    for key in code:
        param = PARAMETERS.get(key)
        if param is not None and param.evaluation and not parser.evaluation:
            problems.append(f"{key} is an evaluation parameter; it is accepted only with evaluation=True")
        elif key not in known:
            problems.append(unknown_parameter(key, known, prefix=""))
    if problems:
        raise ConfigError(problems)
    return dict(code)
