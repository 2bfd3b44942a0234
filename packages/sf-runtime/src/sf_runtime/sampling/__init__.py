"""Sampling for the parallel runner: shared trajectory buffers, rollout workers, inference workers."""
