"""The learner: batches of trajectories in, minibatch updates, weights out."""

from sf_runtime.learning.learner import BATCH_KEYS, Learner, resolve_recurrence

__all__ = ["BATCH_KEYS", "Learner", "resolve_recurrence"]
