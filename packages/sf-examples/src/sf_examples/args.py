"""Command-line resolution shared by the example scripts: the spec's ``parse_args`` with the env's registered hooks.

The spec's template calls its env's argument and default hooks by hand between ``parse_sf_args`` and
``parse_full_cfg``. The examples register their hooks with ``register_env(..., add_extra_params_func=...,
env_override_defaults_func=...)`` instead, so one function serves them all (and ``sf-cli train`` finds the same hooks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sf_config import Config, parse_full_cfg, parse_sf_args
from sf_registry import env_spec


def parse_args(
    argv: Sequence[str] | None = None, evaluation: bool = False, defaults: Mapping[str, Any] | None = None
) -> Config:
    """Resolves the command line: schema defaults < ``defaults`` < the env's hooks < config files < command line.

    Args:
        argv: The arguments (``sys.argv[1:]`` when None).
        evaluation: Accept the evaluation parameters (``--no_render``, ``--max_num_episodes``, ...).
        defaults: The script's own default overrides, applied below the env's.

    Returns:
        The validated configuration.

    Raises:
        sf_config.ConfigError: An unknown parameter or a bad value (the message names it and what is accepted).
        sf_registry.EnvNotFoundError: ``--env`` names no registered, entry-point or gymnasium env.
    """
    argv = None if argv is None else list(argv)
    parser, partial_cfg = parse_sf_args(argv, evaluation=evaluation)
    if defaults:
        parser.set_defaults(**dict(defaults))
    if partial_cfg.env is not None:  # without --env, parse_full_cfg reports what is missing
        spec = env_spec(partial_cfg.env, load=True)
        spec.add_extra_params(parser, evaluation=evaluation)
        spec.override_defaults(parser)
    return parse_full_cfg(parser, argv)
