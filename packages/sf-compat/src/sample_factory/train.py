"""``sample_factory.train``: ``run_rl(cfg) -> status`` and ``make_runner(cfg) -> (cfg, runner)`` from sf_runtime."""

from sf_runtime import make_runner, run_rl

__all__ = ["make_runner", "run_rl"]
