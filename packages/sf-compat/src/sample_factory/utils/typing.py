"""``sample_factory.utils.typing``: ``Config`` (sf_config), ``ObsSpace`` and ``ActionSpace`` (sf_runtime)."""

from sf_config import Config
from sf_runtime import ActionSpace, ObsSpace

__all__ = ["ActionSpace", "Config", "ObsSpace"]
