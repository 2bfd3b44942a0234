"""Train two policies together on a two-agent game: ``matching_game`` (cooperative) or ``target_duel`` (self-play).

Usage::

    python -m sf_examples.self_play.train_self_play --env=matching_game --experiment=matching
    python -m sf_examples.self_play.train_self_play --env=target_duel --experiment=duel
    python -m sf_examples.self_play.enjoy_self_play --env=target_duel --experiment=duel --policy_index=1 --no_render

With ``num_policies=2`` and ``pbt_mix_policies_in_one_env=True`` (both the defaults here) the two agents of an env
can be driven by different policies: in sync mode agent 0 of every env by policy 0 and agent 1 by policy 1, in async
mode drawn at random every few episodes. Each policy has its own learner, checkpoints (``checkpoint_p<i>/``) and
summaries (``.summary/<i>/``, with per-agent episode rewards ``episode/agent<j>/reward``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sf_config import Config
from sf_examples.args import parse_args as parse_example_args
from sf_examples.defaults import ONE_PROCESS_DEFAULTS
from sf_examples.self_play.envs import MatchingGame, TargetDuel
from sf_registry import EnvDefaults, register_env
from sf_runtime import run_rl

GAMES = {"matching_game": MatchingGame, "target_duel": TargetDuel}


def make_game(full_env_name: str, cfg: Config | None = None, env_config=None, render_mode: str | None = None):
    """Env factory of both games."""
    return GAMES[full_env_name](render_mode=render_mode)


self_play_defaults = EnvDefaults(
    ONE_PROCESS_DEFAULTS,
    {
        "num_policies": 2,
        "num_envs_per_worker": 8,
        "rollout": 8,
        "batch_size": 128,
        "num_epochs": 2,
        "encoder_mlp_layers": [32],
        "gamma": 0.9,
        "exploration_loss_coeff": 0.003,
        "train_for_env_steps": 200_000,
    },
)
"""Defaults: two policies, a small feed-forward model, short rollouts (the games have no long-term credit)."""


def register_self_play_envs() -> None:
    """Registers ``matching_game`` and ``target_duel``."""
    for name in GAMES:
        register_env(name, make_game, env_override_defaults_func=self_play_defaults)


def parse_args(argv: Sequence[str] | None = None, evaluation: bool = False) -> Config:
    """Resolves the command line with the env's hooks."""
    return parse_example_args(argv, evaluation=evaluation)


def main(argv: Sequence[str] | None = None) -> int:
    """Script entry point: trains and returns the status (0 success, 1 failure, 2 interrupted)."""
    register_self_play_envs()
    return run_rl(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
