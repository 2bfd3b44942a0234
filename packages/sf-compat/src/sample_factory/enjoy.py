"""``sample_factory.enjoy``: ``enjoy(cfg)`` from :mod:`sf_runtime`.

Its result is an ``int`` status (``sys.exit(enjoy(cfg))``) that also unpacks as ``status, avg_reward = enjoy(cfg)``.
"""

from sf_runtime import enjoy

__all__ = ["enjoy"]
