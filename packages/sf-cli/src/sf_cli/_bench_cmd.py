"""``sf-cli bench``: how fast the env steps on its own, and how fast a short training run goes on this machine."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import click

from sf_cli._console import setup_console_logging
from sf_cli._errors import Failure
from sf_cli._options import schema_subcommand, seconds_option, verbose_option
from sf_cli._resolve import DEFAULT_ENV, TRAIN_HELP_DEFAULTS, command_args, import_env_modules, partial_cfg, resolve_cfg
from sf_registry import make_env


def env_step_rate(cfg: Any, seconds: float, max_steps: int | None = None) -> tuple[int, float]:
    """Steps one env (made by the registry's factory, no sf wrappers) with random actions.

    Returns:
        (agent steps taken, seconds spent stepping; resets included).
    """
    env = make_env(cfg.env, cfg=cfg)
    try:
        num_agents = int(getattr(env, "num_agents", 1) or 1)
        multi_agent = bool(getattr(env, "is_multiagent", False)) or num_agents > 1
        env.reset(seed=cfg.seed)
        env.action_space.seed(cfg.seed)
        steps = 0
        start = time.perf_counter()
        while True:
            elapsed = time.perf_counter() - start
            if elapsed >= seconds or (max_steps is not None and steps >= max_steps):
                return steps, elapsed
            action = (
                [env.action_space.sample() for _ in range(num_agents)] if multi_agent else env.action_space.sample()
            )
            _obs, _reward, terminated, truncated, _info = env.step(action)
            steps += 1
            if multi_agent:
                all_done = all(bool(t) or bool(u) for t, u in zip(terminated, truncated, strict=False))
                if all_done and not getattr(env, "auto_reset", False):
                    env.reset()
            elif terminated or truncated:
                env.reset()
    finally:
        env.close()


def _bench_args(args: Sequence[str], seconds: float, temp_dir: str) -> list[str]:
    """The user's arguments plus the bench run's own: its length, and a temporary experiment folder.

    In a ``--train_dir`` the user gave, an existing ``bench`` experiment is kept under a new name
    (``restart_behavior=restart``) rather than resumed; in the temporary folder there is nothing to keep.
    """
    args = command_args(args, default_env=DEFAULT_ENV)
    partial = partial_cfg(args)
    extra: list[str] = []
    if partial.source_of("train_for_seconds") == "default":
        extra += ["--train_for_seconds", str(int(max(1, round(seconds))))]
    temporary = partial.source_of("train_dir") == "default"
    if temporary:
        extra += ["--train_dir", temp_dir]
    if partial.source_of("experiment") == "default":
        extra += ["--experiment", "bench"]
    if partial.source_of("restart_behavior") == "default":
        extra += ["--restart_behavior", "overwrite" if temporary else "restart"]
    return args + extra


@schema_subcommand(
    "bench",
    seconds_option("--env-seconds", minimum=0.1, default=5.0, help="Seconds of stepping one env with random actions."),
    seconds_option(
        "--seconds", minimum=1, default=30.0, help="Length of the training run (its train_for_seconds, unless given)."
    ),
    click.option("--skip-training", is_flag=True, help="Measure only the env step rate."),
    verbose_option,
    cli_defaults={"env": TRAIN_HELP_DEFAULTS["env"]},
    short_help="Measure the env step rate and the training FPS on this machine.",
)
def bench_command(
    ctx: click.Context,
    env_seconds: float,
    seconds: float,
    skip_training: bool,
    verbose: bool,
    env_modules: tuple[str, ...],
    **_: Any,
) -> None:
    """Measure, for the env and parameters given (default env: CartPole-v1), the raw step rate of one env with
    random actions and the training FPS (env steps per second, frameskip included) of a short run, so you can
    size the machine, workers and envs per worker. The run goes to a temporary folder unless --train_dir is given.

    \b
    Examples:
      sf-cli bench --env CartPole-v1
      sf-cli bench --env CartPole-v1 --num_workers 8 --num_envs_per_worker 16 --seconds 60
    """
    import_env_modules(env_modules)
    handler = setup_console_logging(logging.INFO if verbose else logging.WARNING)
    try:
        with tempfile.TemporaryDirectory(prefix="sf-bench-") as tmp:
            cfg = resolve_cfg(_bench_args(ctx.args, seconds, tmp))
            steps, elapsed = env_step_rate(cfg, env_seconds)
            click.echo(f"env: {cfg.env}")
            click.echo(
                f"env step rate (1 env, random actions, no sf wrappers): {steps / max(elapsed, 1e-9):,.0f} steps/s"
            )
            if skip_training:
                return
            from sf_cli._observers import RateMeter  # torch is imported only here
            from sf_runtime import run_rl

            rate = RateMeter()
            click.echo(f"training for {cfg.train_for_seconds} s ...", err=True)
            status = int(run_rl(cfg, observers=[rate]))
            if status == 2:
                ctx.exit(2)
            if status != 0 or rate.fps is None:
                raise Failure("the training run failed; rerun with -v to see its log")
            runner = (
                "serial" if cfg.serial_mode else f"parallel, {cfg.num_workers} workers x {cfg.num_envs_per_worker} envs"
            )
            click.echo(f"training FPS ({runner}, {cfg.env_frameskip}x frameskip): {rate.fps:,.0f} env steps/s")
    finally:
        logging.getLogger().removeHandler(handler)
