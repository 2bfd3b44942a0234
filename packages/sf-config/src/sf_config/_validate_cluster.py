"""Validation rules of the cluster group: the distributed runner's parameters and what it cannot combine with."""

from __future__ import annotations

from sf_config._config import Config

CLUSTER_SETTINGS = (
    "ray_address",
    "num_sampler_actors",
    "sampler_actor_cpus",
    "max_sampler_restarts",
    "learner_world_size",
    "learner_rank_timeout_sec",
)


def rule_cluster_settings(cfg: Config) -> str | None:
    """Settings of the distributed runner given explicitly (command line or code) without ``distributed=ray``."""
    if cfg.get("distributed", "none") != "none":
        return None
    given = [f"--{name}" for name in cfg.given_explicitly(CLUSTER_SETTINGS)]
    if not given:
        return None
    return f"{', '.join(given)}: used only by the distributed runner; add --distributed=ray, or leave them out"


def rule_distributed_run(cfg: Config) -> str | None:
    """What the distributed runner needs: one policy, no serial mode, batches that split into whole trajectories
    per learner rank, and a learning-rate schedule that keeps the ranks' weights identical."""
    if cfg.get("distributed", "none") != "ray":
        return None
    problems = []
    if cfg.serial_mode:
        problems.append("distributed=ray runs its own sampler actors: leave serial_mode at False")
    if cfg.num_policies != 1:
        problems.append(
            f"distributed=ray with num_policies={cfg.num_policies} is not supported yet: the distributed runner "
            "trains one policy; use --num_policies=1"
        )
    ranks = cfg.learner_world_size
    samples = cfg.batch_size * cfg.num_batches_per_epoch
    if samples % (cfg.rollout * ranks):
        problems.append(
            f"distributed=ray: batch_size * num_batches_per_epoch ({samples}) must split into whole rollouts "
            f"(rollout={cfg.rollout}) for each of the learner_world_size={ranks} ranks; use a batch_size that is a "
            f"multiple of {cfg.rollout * ranks // _gcd(cfg.rollout * ranks, cfg.num_batches_per_epoch)}"
        )
    elif samples // (ranks * cfg.recurrence) < cfg.num_batches_per_epoch:
        problems.append(
            f"distributed=ray: each learner rank's share ({samples // ranks} samples) has fewer chunks of "
            f"recurrence={cfg.recurrence} than num_batches_per_epoch={cfg.num_batches_per_epoch}; raise batch_size "
            "or lower learner_world_size"
        )
    if ranks > 1 and str(cfg.lr_schedule).startswith("kl_adaptive"):
        problems.append(
            f"lr_schedule={cfg.lr_schedule} with learner_world_size={ranks} is not supported: each rank would adapt "
            "its learning rate to its own KL and the ranks' weights would drift apart; use constant or linear_decay"
        )
    return "; ".join(problems) or None


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a
