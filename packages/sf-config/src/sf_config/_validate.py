"""Validation of a resolved cfg: each parameter's type and range, then the rules that tie parameters together."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable

from sf_config._config import Config
from sf_config._errors import ConfigError
from sf_config._schema import PARAMETERS
from sf_config._validate_cluster import rule_cluster_settings, rule_distributed_run


def resolve_automatic_values(cfg: Config) -> None:
    """Replaces "automatic" values by concrete ones, keeping the layer that asked for them.

    ``recurrence == -1`` becomes ``rollout`` for recurrent policies (Sample Factory 2's rule) and with V-trace (which
    needs ``recurrence == rollout``), else 1, so that the rest of the system always reads a real segment length.
    The cfg remembers that the value was derived (:meth:`Config.is_automatic`), so that a later layer changing
    ``rollout`` derives it again.
    """
    if "recurrence" in cfg and cfg.recurrence == -1 and "rollout" in cfg:
        whole_rollout = cfg.get("use_rnn", False) or cfg.get("with_vtrace", False)
        cfg.set("recurrence", cfg.rollout if whole_rollout else 1, cfg.source_of("recurrence"))
        cfg.mark_automatic("recurrence")


def restore_automatic_values(cfg: Config) -> None:
    """Turns derived values back into their "automatic" setting before more layers are applied."""
    if cfg.is_automatic("recurrence"):
        cfg.set("recurrence", -1, cfg.source_of("recurrence"))


def _rule_env_splits(cfg: Config) -> str | None:
    if cfg.num_envs_per_worker % cfg.worker_num_splits != 0:
        return (
            f"num_envs_per_worker ({cfg.num_envs_per_worker}) must be divisible by worker_num_splits "
            f"({cfg.worker_num_splits}): each split steps the same number of envs. Use e.g. "
            f"--num_envs_per_worker={_round_up(cfg.num_envs_per_worker, cfg.worker_num_splits)} or "
            f"--worker_num_splits=1"
        )
    return None


def _rule_recurrence(cfg: Config) -> str | None:
    if cfg.recurrence < 1:
        return (
            f"recurrence ({cfg.recurrence}) must be >= 1, or -1 for automatic (rollout with an RNN or V-trace, else 1)"
        )
    if cfg.use_rnn and cfg.recurrence == 1:
        return (
            "use_rnn=True needs recurrence > 1 (backpropagation through time over 1 step cannot train an RNN). "
            f"Use --recurrence={cfg.rollout} (or -1 for automatic) or --use_rnn=False"
        )
    if cfg.recurrence > cfg.rollout or cfg.rollout % cfg.recurrence != 0:
        return (
            f"rollout ({cfg.rollout}) must be a multiple of recurrence ({cfg.recurrence}): each trajectory is split "
            f"into whole backpropagation segments. Use e.g. --recurrence={cfg.rollout}"
        )
    return None


def _rule_vtrace(cfg: Config) -> str | None:
    if not cfg.with_vtrace:
        return None
    problems = []
    if cfg.recurrence != cfg.rollout:
        problems.append(
            f"with_vtrace=True needs recurrence == rollout (got recurrence={cfg.recurrence}, rollout={cfg.rollout}); "
            f"use --recurrence={cfg.rollout} or --recurrence=-1"
        )
    if cfg.normalize_returns:
        problems.append(
            "with_vtrace=True is incompatible with normalize_returns=True (V-trace targets are computed on raw "
            "values); use --normalize_returns=False or --with_vtrace=False"
        )
    return "; ".join(problems) or None


def _rule_sync_batch(cfg: Config) -> str | None:
    if cfg.async_rl or cfg.batch_size % cfg.rollout == 0:
        return None
    return (
        f"sync mode (async_rl=False) needs batch_size ({cfg.batch_size}) to be a whole number of rollouts "
        f"(rollout={cfg.rollout}); use e.g. --batch_size={_round_up(cfg.batch_size, cfg.rollout)}"
    )


def _rule_lr_bounds(cfg: Config) -> str | None:
    if cfg.lr_adaptive_min > cfg.lr_adaptive_max:
        return f"lr_adaptive_min ({cfg.lr_adaptive_min}) must not exceed lr_adaptive_max ({cfg.lr_adaptive_max})"
    return None


def _rule_pbt_perturb(cfg: Config) -> str | None:
    if cfg.pbt_perturb_min > cfg.pbt_perturb_max:
        return f"pbt_perturb_min ({cfg.pbt_perturb_min}) must not exceed pbt_perturb_max ({cfg.pbt_perturb_max})"
    return None


def _rule_policy_index(cfg: Config) -> str | None:
    # A num_policies still at its schema default is not known yet: evaluation takes it from the experiment's
    # config.json (the saved layer), and this rule runs again once that is layered in.
    if "policy_index" not in cfg or cfg.source_of("num_policies") == "default":
        return None
    if cfg.policy_index >= cfg.num_policies:
        return (
            f"policy_index ({cfg.policy_index}) must be below num_policies ({cfg.num_policies}); "
            f"accepted: 0..{cfg.num_policies - 1}"
        )
    return None


_WANDB_SETTINGS = ("wandb_user", "wandb_project", "wandb_group", "wandb_job_type", "wandb_tags", "wandb_dir")


def _rule_wandb_settings(cfg: Config) -> str | None:
    """W&B settings given explicitly (command line or code) would do nothing without ``with_wandb``: an error.

    Values from a config file, the env's defaults or a resumed config.json are not checked: they serve runs with
    and without W&B alike.
    """
    if cfg.get("with_wandb", True):
        return None
    given = [f"--{name}" for name in cfg.given_explicitly(_WANDB_SETTINGS)]
    if not given:
        return None
    verb, them = ("is", "it") if len(given) == 1 else ("are", "them")
    return (
        f"{', '.join(given)} {verb} used only with --with_wandb: add --with_wandb to report to Weights & Biases, "
        f"or leave {them} out"
    )


def _non_default(cfg: Config, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in cfg and cfg[name] != PARAMETERS[name].default]


def _rule_algo(cfg: Config) -> str | None:
    if cfg.get("algo", "APPO") != "APPO":
        return f"algo={cfg.algo!r} is not supported: sf implements APPO only; use --algo=APPO (the default)"
    return None


# pbt_mix_policies_in_one_env is not PBT's own: it maps agents to policies in any multi-policy run.
PBT_PARAMETERS = tuple(name for name in PARAMETERS if name.startswith("pbt_") and name != "pbt_mix_policies_in_one_env")


def _rule_pbt(cfg: Config) -> str | None:
    """PBT needs a population; its settings given explicitly without ``with_pbt`` would do nothing."""
    if cfg.get("with_pbt", False):
        if cfg.num_policies < 2:
            return (
                f"with_pbt=True needs a population of policies, but num_policies={cfg.num_policies}; "
                "use --num_policies=2 or more (e.g. 4), or leave --with_pbt out"
            )
        return None
    given = [f"--{name}" for name in cfg.given_explicitly(PBT_PARAMETERS)]
    if not given:
        return None
    verb = "is" if len(given) == 1 else "are"
    return f"{', '.join(given)} {verb} used only with --with_pbt: add --with_pbt (and --num_policies=2 or more)"


GPU_ENV_PARAMETERS = ("actor_worker_gpus", "env_gpu_actions", "env_gpu_observations")


def _rule_gpu_envs(cfg: Config) -> str | None:
    given = _non_default(cfg, GPU_ENV_PARAMETERS)
    if not given:
        return None
    return (
        f"{', '.join(given)}: GPU-side env tensors are not supported in this version of sf: rollout workers step "
        "their envs on the CPU and observations reach the policy through CPU shared memory (the policy itself runs "
        "on --device); leave actor_worker_gpus, env_gpu_actions and env_gpu_observations at their defaults"
    )


def _rule_benchmark(cfg: Config) -> str | None:
    if cfg.get("benchmark", False):
        return (
            "benchmark=True is not supported: sf has no benchmark mode inside training runs; measure throughput "
            "with `sf-cli bench` (or benchmarks/bench_throughput.py) and leave --benchmark out"
        )
    return None


def _rule_torch_compile(cfg: Config) -> str | None:
    """torch.compile's inductor backend builds C++ kernels on a CPU: without a compiler it fails at the first batch."""
    where = cfg.get("torch_compile", "off")
    if where == "off":
        return None
    if sys.platform == "win32":
        return f"torch_compile={where!r}: torch.compile is not supported on Windows; use torch_compile='off'"
    if cfg.get("serial_mode", False) and where != "both":
        return (
            f"torch_compile={where!r} with serial_mode=True: in serial mode the learner and the rollouts share one "
            "model, so it is compiled for both or not at all; use torch_compile='both' or 'off'"
        )
    compilers = [os.environ.get("CXX", ""), "c++", "g++", "clang++"]
    if cfg.get("device", "auto") != "gpu" and not any(c and shutil.which(c) for c in compilers):
        return (
            f"torch_compile={where!r}: torch.compile needs a C++ compiler on the CPU (none of c++, g++, clang++ or "
            "$CXX was found on PATH); install one, or use torch_compile='off'"
        )
    return None


def _round_up(value: int, multiple: int) -> int:
    return max(multiple, -(-value // multiple) * multiple)


CROSS_RULES: tuple[Callable[[Config], str | None], ...] = (
    _rule_env_splits,
    _rule_recurrence,
    _rule_vtrace,
    _rule_sync_batch,
    _rule_lr_bounds,
    _rule_pbt_perturb,
    _rule_policy_index,
    _rule_wandb_settings,
    _rule_algo,
    _rule_pbt,
    _rule_gpu_envs,
    _rule_benchmark,
    rule_cluster_settings,
    rule_distributed_run,
    _rule_torch_compile,
)


def validate_cfg(cfg: Config) -> Config:
    """Checks every parameter and every cross-parameter rule; returns the cfg when all hold.

    Per parameter: present, right type, within its choices and bounds. Across parameters:
    ``num_envs_per_worker`` divisible by ``worker_num_splits``; ``rollout`` a multiple of ``recurrence`` and an RNN
    needing ``recurrence > 1``; V-trace needing ``recurrence == rollout`` and ``normalize_returns=False``; sync mode
    needing ``batch_size`` to be a whole number of rollouts; ordered bounds of the adaptive learning rate and PBT;
    W&B settings given on the command line or in code only with ``with_wandb``; ``with_pbt`` needing
    ``num_policies >= 2``, and ``pbt_*`` settings given on the command line or in code only with ``with_pbt``; the
    parameters kept for Sample Factory's interface whose feature sf does not have refuse any value but their default
    (``algo`` other than APPO, GPU-side env tensors, ``benchmark``), saying why; the distributed runner's settings
    only with ``distributed=ray``, and what that runner needs (``_validate_cluster``).

    Args:
        cfg: The cfg to check (``recurrence=-1`` is read as already resolved; see :func:`make_cfg`).

    Returns:
        The same cfg.

    Raises:
        ConfigError: Listing every problem found, each naming the parameters and what would be accepted.
    """
    problems: list[str] = []
    for name, param in PARAMETERS.items():
        if param.evaluation and name not in cfg:
            continue
        if name not in cfg:
            problems.append(f"{name}: missing; expected {param.accepted()}")
            continue
        try:
            param.coerce(cfg[name])
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    probe = cfg.copy()
    resolve_automatic_values(probe)
    for rule in CROSS_RULES:
        problem = rule(probe)
        if problem:
            problems.append(problem)
    if problems:
        raise ConfigError(problems)
    return cfg
