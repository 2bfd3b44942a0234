"""Default overrides shared by the examples whose envs are small enough to train in one process.

Each example registers its own table with ``register_env(..., env_override_defaults_func=EnvDefaults(...))``, layered
on :data:`ONE_PROCESS_DEFAULTS`: ``EnvDefaults(ONE_PROCESS_DEFAULTS, gamma=0.97, ...)``.
"""

from __future__ import annotations

from sf_registry import EnvDefaults

ONE_PROCESS_DEFAULTS = EnvDefaults(
    serial_mode=True,  # the envs are so cheap to step that worker processes would only add overhead
    async_rl=False,
    num_workers=1,
    worker_num_splits=1,
    rollout=32,
    batch_size=256,
    use_rnn=False,
    learning_rate=1e-3,
)
"""A feed-forward policy trained in one process, with short rollouts and small minibatches."""
