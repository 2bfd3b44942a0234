"""``sample_factory.utils.typing``: ``Config`` (sf_config); ``ObsSpace``, ``ActionSpace``, ``Env``, ``PolicyID``
(sf_runtime)."""

from sf_config import Config
from sf_runtime import ActionSpace, Env, ObsSpace, PolicyID

__all__ = ["ActionSpace", "Config", "Env", "ObsSpace", "PolicyID"]
