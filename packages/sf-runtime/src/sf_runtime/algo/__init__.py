"""The APPO math: advantages (GAE, V-trace), losses, learning-rate schedules, optimizers; small RL helpers."""

from sf_runtime.algo.advantages import bootstrap_time_outs, gae, vtrace
from sf_runtime.algo.appo_loss import LossCoefficients, appo_loss, clipped_ratio, policy_loss, value_loss
from sf_runtime.algo.lr_schedules import LR_SCHEDULES, LearningRateSchedule, kl_adaptive_lr
from sf_runtime.algo.optimizers import Adam, Lamb, make_optimizer
from sf_runtime.algo.rl_utils import EPS, make_dones, samples_per_trajectory

__all__ = [
    "EPS",
    "LR_SCHEDULES",
    "Adam",
    "Lamb",
    "LearningRateSchedule",
    "LossCoefficients",
    "appo_loss",
    "bootstrap_time_outs",
    "clipped_ratio",
    "gae",
    "kl_adaptive_lr",
    "make_dones",
    "make_optimizer",
    "policy_loss",
    "samples_per_trajectory",
    "value_loss",
    "vtrace",
]
