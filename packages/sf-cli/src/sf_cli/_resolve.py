"""From command-line tokens to a validated cfg, the way a Sample Factory script does it, plus the env's hooks.

The order is the spec's template: ``parse_sf_args`` (a first reading, to learn the env), the env's registered hooks
(its own arguments, then its default overrides: the ``"env"`` layer), and ``parse_full_cfg``. Modules named with
``--env-module`` are imported first, so their ``register_env`` calls count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sf_config import Config, ConfigError, SFArgumentParser, parse_full_cfg, parse_sf_args
from sf_registry import EnvDefaults, EnvSpec, env_spec, import_env_module

DEFAULT_ENV = "CartPole-v1"
"""The env ``sf-cli train`` trains when no ``--env`` is given (a gymnasium classic-control env, no extra installs)."""

DEFAULT_ENV_DEFAULTS = EnvDefaults(
    {
        "train_for_env_steps": 300_000,
        "use_rnn": False,
        "encoder_mlp_layers": [64, 64],
        "learning_rate": 1e-3,
        "reward_scale": 0.1,
        "num_envs_per_worker": 8,
        "batch_size": 256,
        "num_batches_per_epoch": 2,
        "num_epochs": 4,
    }
)
"""sf-cli's default-override hook for :data:`DEFAULT_ENV` (its ``"env"`` layer), used only while the registry gives
that env no hook of its own: a feed-forward policy, updates sized for a small problem and a finite budget, so that
``sf-cli train`` balances the pole (average reward above 400 of 500) in about a minute on a laptop, instead of running
the schema's unbounded budget with defaults made for large problems."""

TRAIN_HELP_DEFAULTS = {
    "env": f"{DEFAULT_ENV} (sf-cli's default env)",
    "experiment": "the env's name, e.g. CartPole-v1",
}
"""The defaults ``--help`` shows for the commands that resolve like train (see :func:`command_args`)."""


def import_env_modules(modules: Iterable[str]) -> None:
    """Imports each module named with ``--env-module`` so that its envs are registered."""
    for module in modules:
        import_env_module(module)


def experiment_name_for(env: str) -> str:
    """The default experiment name for an env: its name with anything but letters, digits, ``.``, ``-``, ``_``
    replaced by ``_`` (``ALE/Pong-v5`` -> ``ALE_Pong-v5``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", env).strip("_") or "experiment"


def _given(partial: Config, name: str) -> bool:
    """True when the user set ``name`` on the command line or in a config file."""
    return partial.source_of(name) != "default"


def command_args(
    args: Sequence[str], *, evaluation: bool = False, default_env: str | None = None, default_experiment: bool = False
) -> list[str]:
    """The argument list sf-cli resolves: ``args`` plus the CLI's own defaults where the user gave nothing.

    ``--env`` (when ``default_env``) and ``--experiment`` (the env's name, when ``default_experiment``) are put in
    front of the user's arguments, exactly as if typed: ``sf-cli train`` is ``sf-cli train --env CartPole-v1
    --experiment CartPole-v1``.
    """
    args = list(args)
    _, partial = parse_sf_args(args, evaluation=evaluation)
    prefix: list[str] = []
    env = partial.env
    if env is None and default_env is not None:
        env = default_env
        prefix += ["--env", env]
    if default_experiment and env is not None and not _given(partial, "experiment"):
        prefix += ["--experiment", experiment_name_for(env)]
    return prefix + args


def apply_env_hooks(spec: EnvSpec, parser: SFArgumentParser, evaluation: bool) -> None:
    """Runs the env's registered hooks on the parser: its extra arguments, then its default overrides.

    The built-in default env's override hook is :data:`DEFAULT_ENV_DEFAULTS` when the registry gives it none.
    """
    override_defaults = spec.env_override_defaults_func
    if override_defaults is None and spec.name == DEFAULT_ENV:
        override_defaults = DEFAULT_ENV_DEFAULTS
    spec.add_extra_params(parser, evaluation=evaluation)
    if override_defaults is not None:
        override_defaults(spec.name, parser)


def resolve_cfg(args: Sequence[str], *, evaluation: bool = False) -> Config:
    """Resolves and validates the cfg of a command line: defaults < env hooks < files < command line.

    Args:
        args: The parameter tokens (``--env X --learning_rate=3e-4 --config f.toml ...``).
        evaluation: Accept the evaluation parameters.

    Raises:
        ConfigError: Unknown parameter (with a did-you-mean), bad value (naming the accepted ones), missing --env.
        EnvNotFoundError: The env is neither registered, declared by an entry point, nor a gymnasium id (the message
            lists the closest names).
    """
    args = list(args)
    parser, partial = parse_sf_args(args, evaluation=evaluation)
    if partial.env is None:
        raise ConfigError("--env is required: the name of a registered environment or a gymnasium id (see sf-cli envs)")
    apply_env_hooks(env_spec(partial.env, load=True), parser, evaluation)
    return parse_full_cfg(parser, args)


def partial_cfg(args: Sequence[str], evaluation: bool = False) -> Config:
    """A first, unvalidated reading of the arguments (to learn train_dir, experiment, env)."""
    return parse_sf_args(list(args), evaluation=evaluation)[1]
