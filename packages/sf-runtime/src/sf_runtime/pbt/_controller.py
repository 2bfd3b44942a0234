"""The PBT controller: a run observer that holds every policy's settings and runs each policy's rounds.

A runner creates it, calls :meth:`PopulationBasedTraining.load` once the experiment directory is ready (so that a
resumed run starts from the saved settings, e.g. to hand them to child processes), :meth:`attach` gives it a
:class:`PopulationTarget` (how settings reach its learners and envs), and passes it as one of the run's observers.
From then on the lifecycle drives it: at start every policy's settings are applied, after each iteration the rounds
that are due run.

A policy's round is due once its env steps reach ``pbt_start_mutation``, then every ``pbt_period_env_steps`` (on that
grid). Policy 0 has no rounds: it is never replaced nor mutated, so the population always holds the configuration
as given. A round waits until every policy has finished an episode (there is no objective to rank on before).
"""

from __future__ import annotations

import copy
import logging
import random
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from sf_runtime.pbt._rules import (
    decide_replacement,
    mutable_hyperparameters,
    mutate_hyperparameters,
    mutate_reward_shaping,
    objective,
)
from sf_runtime.pbt._state import PolicySettings, append_summary, load_policy_settings, save_policy_settings
from sf_runtime.runners.lifecycle import ExperimentLifecycle, RunObserver

log = logging.getLogger(__name__)


class PopulationTarget(Protocol):
    """How a runner applies PBT decisions to its learners and envs."""

    def apply(self, policy_id: int, settings: PolicySettings, copy_weights_from: int | None) -> int | None:
        """Give a policy its hyperparameters and reward shaping, after copying another policy's weights into it
        (``copy_weights_from``; its version then moves past ``max_policy_lag``). Returns the policy version after
        the copy when it is known at once (serial runner), else None."""

    def policy_version(self, policy_id: int) -> int:
        """The latest policy version known of a policy."""


class PopulationBasedTraining(RunObserver):
    """Population-based training of the run's policies (``with_pbt``); see the module doc and :mod:`._rules`.

    Args:
        cfg: the run's configuration (its hyperparameters are every policy's starting point).
        policy_ids: the population.
        default_reward_shaping: the env's default scheme (``get_default_reward_shaping``), or None.
    """

    def __init__(self, cfg: Any, policy_ids: Iterable[int], default_reward_shaping: Any = None) -> None:
        self.cfg = cfg
        self.policy_ids = list(policy_ids)
        self.names = mutable_hyperparameters(cfg)
        self.rng = random.Random(None if cfg.seed is None else int(cfg.seed) + 7919)
        base = {name: float(cfg[name]) for name in self.names}
        self.settings: dict[int, PolicySettings] = {
            pid: PolicySettings(dict(base), _copy(default_reward_shaping), int(cfg.pbt_start_mutation))
            for pid in self.policy_ids
        }
        self.target: PopulationTarget | None = None

    def load(self) -> None:
        """Take over the settings saved by an earlier run of the experiment, write those of a new one."""
        for pid in self.policy_ids:
            saved = load_policy_settings(self.cfg, pid)
            if saved is not None:
                for name in self.names:  # e.g. gamma when pbt_optimize_gamma was switched on for this run
                    saved.hyperparameters.setdefault(name, self.settings[pid].hyperparameters[name])
                self.settings[pid] = saved
                log.info("PBT: policy %d resumes with %s", pid, _describe(saved))
            else:
                save_policy_settings(self.cfg, pid, self.settings[pid])

    def attach(self, target: PopulationTarget) -> None:
        """Set where decisions are applied (before the run starts)."""
        self.target = target

    # ---- observer callbacks --------------------------------------------------------------------------------------

    def on_start(self, run: ExperimentLifecycle) -> None:
        assert self.target is not None, "attach() a PopulationTarget before the run starts"
        for pid in self.policy_ids:
            self.target.apply(pid, self.settings[pid], None)

    def on_iteration(self, run: ExperimentLifecycle) -> None:
        for pid in self.policy_ids[1:]:
            if run.env_steps[pid] >= self.settings[pid].next_round_env_steps:
                self.round(run, pid)

    def extra_summaries(self, run: ExperimentLifecycle, policy_id: int) -> Mapping[str, float]:
        settings = self.settings[policy_id]
        scalars = {f"pbt/{name}": value for name, value in settings.hyperparameters.items()}
        scalars["pbt/replacements"] = float(settings.replacements)
        scalars["pbt/mutations"] = float(settings.mutations)
        return scalars

    # ---- a round -------------------------------------------------------------------------------------------------

    def objectives(self, run: ExperimentLifecycle) -> dict[int, float | None]:
        """Every policy's objective now (None before its first episode)."""
        target = str(self.cfg.pbt_target_objective)
        return {
            pid: objective({target: run.stats[pid].mean(target), "reward": run.stats[pid].mean("reward")}, target)
            for pid in self.policy_ids
        }

    def round(self, run: ExperimentLifecycle, policy_id: int) -> dict[str, Any] | None:
        """One PBT round of a policy: maybe replace it by a better one, then mutate; returns the summary record
        written (None when nothing changed or the round has to wait for episodes)."""
        assert self.target is not None
        objectives = self.objectives(run)
        if any(value is None for value in objectives.values()):
            return None  # no ranking before every policy finished an episode: try again next iteration
        decision = decide_replacement(policy_id, objectives, self.cfg, self.rng)  # type: ignore[arg-type]
        settings = self.settings[policy_id]
        env_steps = int(run.env_steps[policy_id])
        record: dict[str, Any] = {
            "policy_id": policy_id,
            "env_steps": env_steps,
            "policy_version": int(self.target.policy_version(policy_id)),
            "objectives": {str(p): v for p, v in objectives.items()},
            "ranking": list(decision.ranking),
        }
        copy_from = None
        if decision.replace:
            assert decision.source is not None
            copy_from = decision.source
            source = self.settings[copy_from]
            settings.hyperparameters = dict(source.hyperparameters)
            settings.reward_shaping = _copy(source.reward_shaping)
            settings.replacements += 1
            record["replaced_by"] = copy_from
            record["source_policy_version"] = int(self.target.policy_version(copy_from))
            record["gap"] = decision.gap
            record["copied_hyperparameters"] = dict(source.hyperparameters)
        settings.hyperparameters, hp_changes = mutate_hyperparameters(settings.hyperparameters, self.cfg, self.rng)
        shaping_changes: dict[str, tuple[float, float]] = {}
        if settings.reward_shaping is not None:
            settings.reward_shaping, shaping_changes = mutate_reward_shaping(
                settings.reward_shaping, self.cfg, self.rng
            )
        settings.mutations += len(hp_changes) + len(shaping_changes)
        settings.next_round_env_steps = _next_round(env_steps, self.cfg)
        changed = decision.replace or hp_changes or shaping_changes
        if changed:
            version_after = self.target.apply(policy_id, settings, copy_from)
            if version_after is not None:
                record["policy_version_after"] = version_after
            record["hyperparameters"] = {k: list(v) for k, v in hp_changes.items()}
            record["reward_shaping"] = {k: list(v) for k, v in shaping_changes.items()}
            append_summary(self.cfg, record)
            log.info("PBT round of policy %d at %d env steps: %s", policy_id, env_steps, _describe_change(record))
        save_policy_settings(self.cfg, policy_id, settings)
        return record if changed else None


def _next_round(env_steps: int, cfg: Any) -> int:
    """The first point of the grid ``pbt_start_mutation + k * pbt_period_env_steps`` after ``env_steps``."""
    start, period = int(cfg.pbt_start_mutation), int(cfg.pbt_period_env_steps)
    if env_steps < start:
        return start
    return start + ((env_steps - start) // period + 1) * period


def _copy(value: Any) -> Any:
    return copy.deepcopy(value)


def _describe(settings: PolicySettings) -> str:
    values = ", ".join(f"{k}={v:.4g}" for k, v in settings.hyperparameters.items())
    return f"{values}; reward shaping {settings.reward_shaping}; next round at {settings.next_round_env_steps}"


def _describe_change(record: Mapping[str, Any]) -> str:
    parts = []
    if "replaced_by" in record:
        parts.append(f"replaced by a copy of policy {record['replaced_by']} (objective gap {record['gap']:.4g})")
    for key in ("hyperparameters", "reward_shaping"):
        for name, (old, new) in record.get(key, {}).items():
            parts.append(f"{name} {old:.4g} -> {new:.4g}")
    return "; ".join(parts)


def create_pbt(cfg: Any, lifecycle: ExperimentLifecycle, default_reward_shaping: Any) -> PopulationBasedTraining | None:
    """With ``with_pbt``: the run's controller, its settings loaded, added to the lifecycle's observers; else None.

    Call it after ``lifecycle.start()`` (the experiment directory exists) and :meth:`attach` a target before the
    lifecycle's ``notify_start``.
    """
    if not cfg.with_pbt:
        return None
    controller = PopulationBasedTraining(cfg, lifecycle.policy_ids, default_reward_shaping)
    controller.load()
    lifecycle.observers.append(controller)
    return controller
