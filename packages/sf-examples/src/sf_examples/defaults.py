"""Default overrides shared by the examples whose envs are small problems, most of them trained in one process.

Each example registers its own table with ``register_env(..., env_override_defaults_func=EnvDefaults(...))``, layered
on one of these: ``EnvDefaults(ONE_PROCESS_DEFAULTS, {"gamma": 0.95, ...})``.
"""

from __future__ import annotations

from sf_registry import EnvDefaults

SMALL_PROBLEM_DEFAULTS = EnvDefaults(
    async_rl=False,
    worker_num_splits=1,
    rollout=32,
    batch_size=256,
    use_rnn=False,
    learning_rate=1e-3,
)
"""A feed-forward policy for a small problem: short rollouts, small minibatches, one split per worker, sync updates."""

ONE_PROCESS_DEFAULTS = EnvDefaults(SMALL_PROBLEM_DEFAULTS, serial_mode=True, num_workers=1)
""":data:`SMALL_PROBLEM_DEFAULTS` trained in one process: the envs are so cheap to step that worker processes would
only add overhead."""
