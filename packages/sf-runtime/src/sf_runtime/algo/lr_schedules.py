"""Learning-rate schedules (``lr_schedule``).

- ``constant``: ``learning_rate`` throughout.
- ``linear_decay``: ``learning_rate * max(0, 1 - env_steps / train_for_env_steps)``, set before each training batch.
- ``kl_adaptive_minibatch`` / ``kl_adaptive_epoch``: after each minibatch (or each epoch, with the epoch's mean KL),
  the KL divergence between the behaviour policy and the updated policy is compared with
  ``lr_schedule_kl_threshold`` = κ: above 2κ the rate is divided by 1.5 (not below ``lr_adaptive_min``), below κ/2 it
  is multiplied by 1.5 (not above ``lr_adaptive_max``).
"""

from __future__ import annotations

LR_SCHEDULES = ("constant", "linear_decay", "kl_adaptive_minibatch", "kl_adaptive_epoch")
KL_ADAPTIVE_FACTOR = 1.5


def kl_adaptive_lr(lr: float, kl: float, kl_threshold: float, lr_min: float, lr_max: float) -> float:
    """One step of the KL-adaptive rule: the new learning rate for an observed KL divergence."""
    if kl > 2.0 * kl_threshold:
        return max(lr / KL_ADAPTIVE_FACTOR, lr_min)
    if kl < 0.5 * kl_threshold:
        return min(lr * KL_ADAPTIVE_FACTOR, lr_max)
    return lr


class LearningRateSchedule:
    """Tracks the current learning rate; the learner calls the three hooks at the matching moments.

    Args:
        cfg: The configuration (``lr_schedule``, ``learning_rate``, ``train_for_env_steps``,
            ``lr_schedule_kl_threshold``, ``lr_adaptive_min``, ``lr_adaptive_max``).

    Attributes:
        lr: The current learning rate.
    """

    def __init__(self, cfg):
        if cfg.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule={cfg.lr_schedule!r} is not supported; accepted: {list(LR_SCHEDULES)}")
        self.kind = cfg.lr_schedule
        self.initial_lr = float(cfg.learning_rate)
        self.train_for_env_steps = int(cfg.train_for_env_steps)
        self.kl_threshold = float(cfg.lr_schedule_kl_threshold)
        self.lr_min = float(cfg.lr_adaptive_min)
        self.lr_max = float(cfg.lr_adaptive_max)
        self.lr = self.initial_lr

    def before_batch(self, env_steps: int) -> float:
        """Called before training on a batch collected by ``env_steps`` environment steps in total."""
        if self.kind == "linear_decay" and self.train_for_env_steps > 0:
            self.lr = self.initial_lr * max(0.0, 1.0 - env_steps / self.train_for_env_steps)
        return self.lr

    def after_minibatch(self, kl: float) -> float:
        """Called after each optimizer step with the minibatch's KL(π_old ‖ π)."""
        if self.kind == "kl_adaptive_minibatch":
            self.lr = kl_adaptive_lr(self.lr, kl, self.kl_threshold, self.lr_min, self.lr_max)
        return self.lr

    def after_epoch(self, mean_kl: float) -> float:
        """Called after each epoch with the mean KL of its minibatches."""
        if self.kind == "kl_adaptive_epoch":
            self.lr = kl_adaptive_lr(self.lr, mean_kl, self.kl_threshold, self.lr_min, self.lr_max)
        return self.lr

    def state_dict(self) -> dict:
        return {"kind": self.kind, "lr": float(self.lr)}

    def load_state_dict(self, state: dict) -> None:
        # a resumed run keeps the adapted rate only if it still uses the same schedule
        if state.get("kind") == self.kind and self.kind.startswith("kl_adaptive"):
            self.lr = float(state["lr"])
