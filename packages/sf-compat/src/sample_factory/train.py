"""``sample_factory.train``: ``run_rl(cfg) -> status`` from :mod:`sf_runtime`."""

from sf_runtime import run_rl

__all__ = ["run_rl"]
