"""EnvConfig: which env instance a factory is creating (worker, vector slot, global id)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import attrs


def _non_negative_int(instance: object, attribute: attrs.Attribute, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"EnvConfig.{attribute.name} must be an int >= 0, got {value!r}")


@attrs.define(slots=True)
class EnvConfig(Mapping):
    """Where an env instance sits in the sampler, handed to factories as ``env_config``.

    Both attribute and key access work (``env_config.env_id`` and ``env_config["env_id"]``), and it converts to
    a dict with ``dict(env_config)``, as the AttrDict that Sample Factory scripts expect.

    Attributes:
        worker_index: Index of the rollout worker that owns the env.
        vector_index: Index of the env within that worker's envs.
        env_id: Index of the env unique across all workers, in ``0..num_envs-1``.

    Example:
        >>> from sf_registry import EnvConfig
        >>> env_config = EnvConfig(worker_index=1, vector_index=2, env_id=6)
        >>> env_config.env_id, env_config["worker_index"], dict(env_config)["vector_index"]
        (6, 1, 2)
    """

    worker_index: int = attrs.field(default=0, validator=_non_negative_int)
    vector_index: int = attrs.field(default=0, validator=_non_negative_int)
    env_id: int = attrs.field(default=0, validator=_non_negative_int)

    def __getitem__(self, key: str) -> int:
        if key not in _KEYS:
            raise KeyError(f"EnvConfig has no key {key!r}; its keys are {', '.join(_KEYS)}")
        return getattr(self, key)

    def __setitem__(self, key: str, value: int) -> None:
        if key not in _KEYS:
            raise KeyError(f"EnvConfig has no key {key!r}; its keys are {', '.join(_KEYS)}")
        setattr(self, key, value)

    def __iter__(self) -> Iterator[str]:
        return iter(_KEYS)

    def __len__(self) -> int:
        return len(_KEYS)

    def __contains__(self, key: object) -> bool:
        return key in _KEYS


_KEYS = tuple(field.name for field in attrs.fields(EnvConfig))
