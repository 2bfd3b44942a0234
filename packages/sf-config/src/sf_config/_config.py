"""`Config`: the resolved configuration, read as attributes and as a mapping, with the provenance of each value."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from sf_config._errors import ConfigError
from sf_config._layers import RANK, check_layer
from sf_config._schema import PARAMETERS, RESERVED_KEYS

PROVENANCE_KEY = "__provenance__"
"""Key under which :meth:`Config.to_json` stores the layer of each value."""


class Config(MutableMapping[str, Any]):
    """A resolved configuration: every parameter readable as ``cfg.name`` and ``cfg["name"]``.

    Values are set as attributes or keys; schema parameters are converted to their declared type (``cfg.gamma = 1``
    stores ``1.0``) and a bad value raises :class:`~sf_config.ConfigError`. Keys outside the schema (a script's own
    arguments) are kept as they are. Each value remembers the layer that set it (:meth:`source_of`); values set after
    resolution come from the ``"code"`` layer.

    ``cfg.cli_args`` holds the arguments given explicitly on the command line, ``cfg.command_line`` the command line
    (both empty when the cfg was built in code).

    Example:
        >>> cfg = Config.from_dict({"gamma": 0.9})
        >>> cfg.gamma, cfg["gamma"], cfg.source_of("gamma")
        (0.9, 0.9, 'code')
    """

    def __init__(self, values: Mapping[str, Any] | None = None, sources: Mapping[str, str] | None = None):
        """Creates a cfg from already resolved values.

        Most code uses :func:`sf_config.make_cfg` or :func:`sf_config.parse_full_cfg` instead, which fill in defaults
        and validate. Values given here are converted but not validated across parameters.

        Args:
            values: Parameter values (and any extra keys).
            sources: Layer of each value (see :data:`sf_config.LAYERS`); missing entries mean ``"code"``.
        """
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_sources", {})
        object.__setattr__(self, "_automatic", set())
        sources = sources or {}
        for key, value in (values or {}).items():
            self._store(key, value, sources.get(key, "code"))
        for key, empty in (("cli_args", {}), ("command_line", "")):
            if key not in self._values:
                self._store(key, empty, "cli")

    # --- mapping and attribute access ---------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)  # keeps copy/pickle from recursing before _values exists
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"cfg has no parameter {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._store(name, value, "code")

    def __setitem__(self, key: str, value: Any) -> None:
        self._store(key, value, "code")

    def __delitem__(self, key: str) -> None:
        if key in RESERVED_KEYS:
            raise KeyError(f"{key} cannot be removed")
        del self._values[key]
        del self._sources[key]
        self._automatic.discard(key)

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._values))

    def __repr__(self) -> str:
        return f"Config({self.to_dict()!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    __hash__ = None  # mutable

    def __getstate__(self) -> dict[str, Any]:
        return {"values": self._values, "sources": self._sources, "automatic": self._automatic}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", state["values"])
        object.__setattr__(self, "_sources", state["sources"])
        object.__setattr__(self, "_automatic", set(state.get("automatic", ())))

    def __copy__(self) -> Config:
        new = Config.__new__(Config)
        new.__setstate__({k: copy.copy(v) for k, v in self.__getstate__().items()})
        return new

    def __deepcopy__(self, memo: dict) -> Config:
        new = Config.__new__(Config)
        new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return new

    def copy(self) -> Config:
        """A copy whose values (lists and dicts included) can be changed without touching this cfg."""
        return copy.deepcopy(self)

    # --- provenance ---------------------------------------------------------------------------------------------

    def source_of(self, name: str) -> str:
        """The layer that set ``name``: one of ``"default"``, ``"env"``, ``"file"``, ``"saved"``, ``"cli"``, ``"code"``.

        Raises:
            KeyError: When the cfg has no such key.
        """
        if name not in self._sources:
            raise KeyError(f"cfg has no parameter {name!r}")
        return self._sources[name]

    def given_explicitly(self, names: Iterable[str]) -> list[str]:
        """Those of ``names`` set on the command line or in code to a value other than the schema's default."""
        return [
            name
            for name in names
            if name in self and self.source_of(name) in ("cli", "code") and self[name] != PARAMETERS[name].default
        ]

    def sources(self) -> dict[str, str]:
        """Layer of every key, as a new dict."""
        return dict(self._sources)

    def set(self, name: str, value: Any, source: str = "code") -> None:
        """Sets a value and records the layer it came from.

        Args:
            name: Parameter name (schema or extra).
            value: The value; schema parameters are converted to their type.
            source: Layer name (see :data:`sf_config.LAYERS`).
        """
        self._store(name, value, check_layer(source))

    def _store(self, key: str, value: Any, source: str) -> None:
        if not isinstance(key, str) or not key.isidentifier():
            raise ConfigError(f"{key!r} is not a valid parameter name (names are Python identifiers)")
        if key == PROVENANCE_KEY:
            raise ConfigError(f"{key} is reserved for provenance in JSON")
        param = PARAMETERS.get(key)
        if param is not None:
            value = param.coerce(value, f" (set by the {source} layer)")
        elif key == "cli_args":
            if not isinstance(value, Mapping):
                raise ConfigError(f"cli_args must be a mapping of argument name to value, got {value!r}")
            value = dict(value)
        self._values[key] = value
        self._sources[key] = source
        self._automatic.discard(key)

    def mark_automatic(self, name: str) -> None:
        """Records that ``name`` holds a value derived from an "automatic" setting (see :meth:`is_automatic`)."""
        self._automatic.add(name)

    def is_automatic(self, name: str) -> bool:
        """Whether ``name`` holds a value derived from an "automatic" setting (e.g. ``recurrence=-1``)."""
        return name in self._automatic

    # --- conversion ---------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """All keys and values as a plain dict (a deep copy), ``cli_args`` and ``command_line`` included."""
        return copy.deepcopy(self._values)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "code") -> Config:
        """Builds a cfg from a plain mapping, e.g. a loaded ``config.json``.

        Args:
            data: Keys and values. A ``__provenance__`` entry (written by :meth:`to_json`) restores the layers.
            source: Layer recorded for keys without provenance.
        """
        data = dict(data)
        provenance = data.pop(PROVENANCE_KEY, None) or {}
        check_layer(source)
        for layer in provenance.values():
            check_layer(layer)
        return cls(data, {key: provenance.get(key, source) for key in data})

    def to_json(self, indent: int | None = 2, provenance: bool = True) -> str:
        """Serializes to JSON text; :meth:`from_json` restores an equal cfg (values and, by default, provenance).

        Args:
            indent: JSON indentation, None for one line.
            provenance: Whether to include the layer of each value under ``__provenance__``.

        Raises:
            ConfigError: When an extra (non-schema) value is not JSON-serializable.
        """
        data: dict[str, Any] = self.to_dict()
        if provenance:
            data[PROVENANCE_KEY] = dict(self._sources)
        try:
            return json.dumps(data, indent=indent, sort_keys=False, allow_nan=True)
        except TypeError as exc:
            raise ConfigError(f"cfg is not JSON-serializable: {exc}") from None

    @classmethod
    def from_json(cls, text: str, source: str = "code") -> Config:
        """Parses JSON text written by :meth:`to_json` (or any JSON object of parameter values)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ConfigError(f"expected a JSON object of parameters, got {type(data).__name__}")
        return cls.from_dict(data, source)

    def layer_rank(self, name: str) -> int:
        """Priority of the layer that set ``name`` (0 = default ... 5 = code)."""
        return RANK[self.source_of(name)]
