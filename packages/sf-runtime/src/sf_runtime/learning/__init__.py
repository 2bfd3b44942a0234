"""The learner: batches of trajectories in, minibatch updates, weights out."""

from sf_runtime.learning.learner import BATCH_KEYS, Learner

__all__ = ["BATCH_KEYS", "Learner"]
