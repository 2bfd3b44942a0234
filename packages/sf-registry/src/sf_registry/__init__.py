"""Environment registry of sf: register, discover and make gymnasium environments by name.

Envs are looked up by name in three places, in order: factories registered with :func:`register_env`, factories
declared by installed packages in the ``sf.envs`` entry-point group, and gymnasium's own registry (so
``make_env("CartPole-v1")`` works with no registration). Depends on gymnasium and attrs only; no torch.

Example:
    >>> import gymnasium
    >>> from sf_registry import EnvConfig, make_env, register_env
    >>> def make_custom_env(full_env_name, cfg=None, env_config=None, render_mode=None):
    ...     return gymnasium.make("CartPole-v1", render_mode=render_mode)
    >>> spec = register_env("custom_env_name", make_custom_env)
    >>> env = make_env("custom_env_name", env_config=EnvConfig(worker_index=0, vector_index=1, env_id=1))
    >>> env.observation_space.shape
    (4,)
"""

from sf_registry._defaults import EnvDefaults
from sf_registry._discovery import ENTRY_POINT_GROUP, import_env_module
from sf_registry._env_config import EnvConfig
from sf_registry._errors import (
    EnvModuleImportError,
    EnvNotFoundError,
    EnvRegistryError,
    EnvRegistryWarning,
    InvalidEnvError,
    InvalidEnvFactoryError,
    InvalidEnvNameError,
)
from sf_registry._registry import env_spec, list_envs, load_env_entry_points, make_env, register_env
from sf_registry._spec import EnvSpec

__version__ = "0.1.0"

__all__ = [
    "ENTRY_POINT_GROUP",
    "EnvConfig",
    "EnvDefaults",
    "EnvModuleImportError",
    "EnvNotFoundError",
    "EnvRegistryError",
    "EnvRegistryWarning",
    "EnvSpec",
    "InvalidEnvError",
    "InvalidEnvFactoryError",
    "InvalidEnvNameError",
    "__version__",
    "env_spec",
    "import_env_module",
    "list_envs",
    "load_env_entry_points",
    "make_env",
    "register_env",
]
