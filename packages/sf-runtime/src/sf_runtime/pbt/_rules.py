"""The rules of population-based training, as pure functions of plain values and a seeded ``random.Random``.

- **objective**: a policy's mean of the episode statistic ``pbt_target_objective`` over the last ``stats_avg``
  episodes (the env's ``true_objective`` info key by default), or its mean episode reward when its episodes do not
  carry that statistic.
- **replacement**: the policies are ranked by objective; the ``k = max(1, floor(n * pbt_replace_fraction))`` worst
  (at most ``n // 2``; none when the fraction is 0) may be replaced by a random one of the ``k`` best. A policy is
  replaced only when the chosen better policy's objective exceeds its own by more than
  ``pbt_replace_reward_gap_absolute`` and by more than ``pbt_replace_reward_gap * |better objective|``.
- **mutation**: each hyperparameter of :data:`HYPERPARAMETERS` (and ``gamma`` with ``pbt_optimize_gamma``), and each
  number of a reward-shaping scheme, is perturbed with probability ``pbt_mutation_rate``: multiplied or divided (even
  odds) by a factor drawn uniformly from ``[pbt_perturb_min, pbt_perturb_max]``. ``gamma`` is perturbed through its
  horizon ``1 - gamma``. Results are kept within the schema's bounds of the parameter.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sf_config import PARAMETERS

HYPERPARAMETERS = (
    "learning_rate",
    "exploration_loss_coeff",
    "value_loss_coeff",
    "max_grad_norm",
    "ppo_clip_ratio",
    "ppo_clip_value",
)
"""The hyperparameters PBT perturbs (``gamma`` too with ``pbt_optimize_gamma``)."""

_GAMMA_MAX = 0.9999  # a horizon of 1 - gamma = 0 cannot be perturbed back by a factor


def mutable_hyperparameters(cfg: Any) -> tuple[str, ...]:
    """The hyperparameters PBT perturbs under ``cfg``."""
    return (*HYPERPARAMETERS, "gamma") if cfg.pbt_optimize_gamma else HYPERPARAMETERS


def objective(episode_means: Mapping[str, float | None], target: str) -> float | None:
    """A policy's objective: the mean of ``target`` when its episodes carry it, else the mean reward, else None."""
    value = episode_means.get(target)
    return value if value is not None else episode_means.get("reward")


def num_to_replace(num_policies: int, replace_fraction: float) -> int:
    """How many of the worst policies may be replaced (and how many of the best they may copy)."""
    if replace_fraction <= 0 or num_policies < 2:
        return 0
    return min(num_policies // 2, max(1, math.floor(num_policies * replace_fraction)))


@dataclass(frozen=True)
class ReplacementDecision:
    """Whether a policy is replaced, by which one, and the figures the decision was made on."""

    policy_id: int
    source: int | None  # the better policy drawn to copy from; None when the policy is not among the worst
    replace: bool
    objective: float
    source_objective: float | None
    gap: float | None
    ranking: tuple[int, ...]  # best first


def decide_replacement(
    policy_id: int, objectives: Mapping[int, float], cfg: Any, rng: random.Random
) -> ReplacementDecision:
    """Ranks the policies and decides whether ``policy_id`` is replaced by a copy of one of the best (module doc).

    Args:
        policy_id: the policy whose round it is.
        objectives: every policy's objective.
        cfg: ``pbt_replace_fraction``, ``pbt_replace_reward_gap``, ``pbt_replace_reward_gap_absolute``.
        rng: draws the better policy.
    """
    ranking = tuple(sorted(objectives, key=lambda p: (-objectives[p], p)))
    k = num_to_replace(len(ranking), float(cfg.pbt_replace_fraction))
    own = objectives[policy_id]
    if k == 0 or policy_id not in ranking[len(ranking) - k :]:
        return ReplacementDecision(policy_id, None, False, own, None, None, ranking)
    source = rng.choice(ranking[:k])
    better = objectives[source]
    gap = better - own
    replace = gap > float(cfg.pbt_replace_reward_gap_absolute) and gap > float(cfg.pbt_replace_reward_gap) * abs(better)
    return ReplacementDecision(policy_id, source, replace, own, better, gap, ranking)


def perturb(value: float, cfg: Any, rng: random.Random) -> float:
    """``value`` multiplied or divided by a factor in ``[pbt_perturb_min, pbt_perturb_max]``."""
    factor = rng.uniform(float(cfg.pbt_perturb_min), float(cfg.pbt_perturb_max))
    return value * factor if rng.random() < 0.5 else value / factor


def _within_bounds(name: str, value: float) -> float:
    param = PARAMETERS.get(name)
    if param is not None and param.low is not None:
        value = max(value, float(param.low))
    if param is not None and param.high is not None:
        value = min(value, float(param.high))
    return value


def mutate_hyperparameters(
    values: Mapping[str, float], cfg: Any, rng: random.Random
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Perturbs each mutable hyperparameter with probability ``pbt_mutation_rate``.

    Returns:
        The new values, and ``name -> (old, new)`` for the ones that changed.
    """
    new = dict(values)
    changes: dict[str, tuple[float, float]] = {}
    for name in mutable_hyperparameters(cfg):
        if rng.random() >= float(cfg.pbt_mutation_rate):
            continue
        old = float(values[name])
        if name == "gamma":
            value = min(_GAMMA_MAX, 1.0 - perturb(1.0 - old, cfg, rng))
        else:
            value = perturb(old, cfg, rng)
        value = _within_bounds(name, value)
        if value != old:
            new[name] = value
            changes[name] = (old, value)
    return new, changes


def mutate_reward_shaping(
    shaping: Any, cfg: Any, rng: random.Random, path: str = ""
) -> tuple[Any, dict[str, tuple[float, float]]]:
    """Perturbs each number of a reward-shaping scheme (nested dicts allowed) with probability ``pbt_mutation_rate``.

    Booleans and non-numbers are kept. Returns the new scheme and ``"key/sub_key" -> (old, new)`` of the changes.
    """
    if isinstance(shaping, Mapping):
        new_scheme: dict[str, Any] = {}
        changes: dict[str, tuple[float, float]] = {}
        for key, value in shaping.items():
            new_scheme[key], sub = mutate_reward_shaping(value, cfg, rng, f"{path}/{key}" if path else str(key))
            changes.update(sub)
        return new_scheme, changes
    if isinstance(shaping, bool) or not isinstance(shaping, int | float):
        return shaping, {}
    if rng.random() >= float(cfg.pbt_mutation_rate):
        return shaping, {}
    value = perturb(float(shaping), cfg, rng)
    return value, ({path: (float(shaping), value)} if value != shaping else {})
