"""Action and observation spaces for env authors: :class:`Discretized` and :func:`convert_space`."""

from __future__ import annotations

import math
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces


class Discretized(spaces.Discrete):
    """A ``Discrete(n)`` space whose actions stand for ``n`` evenly spaced values of a continuous range.

    The policy treats it as any ``Discrete`` space: it samples an index ``0..n-1``, and that index is what the env's
    ``step`` receives. The env turns it into the continuous value it stands for with :meth:`to_continuous`
    (``min_action`` for 0, ``max_action`` for ``n - 1``), as Sample Factory 2's envs do, e.g. for turning in a Tuple
    action space of buttons and a discretized turn. Being a ``Discrete``, it works wherever one does (alone, or in a
    ``Tuple``); check for it before ``Discrete`` when an env converts actions by type.

    Args:
        n: Number of values, at least 2.
        min_action: The value of action 0.
        max_action: The value of action ``n - 1``, greater than ``min_action``.
        seed: Seed of the space's own generator (for ``sample()``).

    Raises:
        ValueError: ``n`` is not an integer of at least 2, or the range is not finite with
            ``min_action < max_action``.

    Example:
        >>> from sf_runtime import Discretized
        >>> turn = Discretized(5, min_action=-10.0, max_action=10.0)
        >>> int(turn.n), turn.to_continuous(0), turn.to_continuous(3)
        (5, -10.0, 5.0)
    """

    def __init__(self, n: int, min_action: float, max_action: float, seed: int | np.random.Generator | None = None):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
            raise ValueError(f"Discretized needs n, the number of values, to be an integer >= 2, got {n!r}")
        low, high = _finite(min_action, "min_action"), _finite(max_action, "max_action")
        if not low < high:
            raise ValueError(f"Discretized needs min_action < max_action, got min_action={low}, max_action={high}")
        super().__init__(int(n), seed=seed)
        self.min_action = low
        self.max_action = high

    @property
    def step_size(self) -> float:
        """The distance between two neighbouring values: ``(max_action - min_action) / (n - 1)``."""
        return (self.max_action - self.min_action) / (int(self.n) - 1)

    def to_continuous(self, discrete_action: Any) -> float | np.ndarray:
        """The continuous value (or values) that an action index stands for.

        Args:
            discrete_action: An index ``0..n-1`` (a Python or numpy integer), or an array of them.

        Returns:
            ``min_action + discrete_action * step_size``: a float for one index, a float array for an array.

        Raises:
            ValueError: An index is outside ``0..n-1`` or not an integer.
        """
        indices = np.asarray(discrete_action)
        if indices.dtype.kind not in "iu" or (indices.size and (indices.min() < 0 or indices.max() >= int(self.n))):
            raise ValueError(f"{self!r} takes integer actions 0..{int(self.n) - 1}, got {discrete_action!r}")
        values = self.min_action + indices.astype(np.float64) * self.step_size
        return float(values) if values.ndim == 0 else values

    def __repr__(self) -> str:
        return f"Discretized({int(self.n)}, min_action={self.min_action}, max_action={self.max_action})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, Discretized)
            and int(self.n) == int(other.n)
            and self.min_action == other.min_action
            and self.max_action == other.max_action
        )

    __hash__ = None  # mutable like gymnasium's own spaces (seeded generator); equal spaces need not hash equal


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not math.isfinite(value):
        raise ValueError(f"Discretized needs {name} to be a finite real number, got {value!r}")
    return float(value)


_CONVERTIBLE = "Box, Discrete, MultiDiscrete, MultiBinary, Tuple, Dict (gymnasium's, or gym's of the same names)"


def convert_space(space: Any) -> gymnasium.spaces.Space:
    """A gymnasium space equal to ``space``, converted from OpenAI gym (or another gym-like library) if needed.

    Envs written for the old ``gym`` package (or simulators that return gym spaces: brax, Isaac Gym) declare spaces
    that gymnasium code does not accept. Conversion goes by class name and attributes, so ``gym`` need not be
    installed: ``Box`` (low, high, shape, dtype), ``Discrete`` (n, start), ``MultiDiscrete`` (nvec), ``MultiBinary``
    (n), and ``Tuple`` and ``Dict`` recursively. A gymnasium space is returned as it is.

    Args:
        space: The space to convert.

    Returns:
        The gymnasium space.

    Raises:
        TypeError: The space is none of the convertible kinds; the message names its type and the accepted ones.

    Example:
        >>> import gymnasium
        >>> from sf_runtime import convert_space
        >>> convert_space(gymnasium.spaces.Discrete(3))
        Discrete(3)
    """
    if isinstance(space, gymnasium.spaces.Space):
        return space
    kind = type(space).__name__
    if kind == "Box":
        dtype = np.dtype(space.dtype)
        return spaces.Box(
            low=np.asarray(space.low, dtype=dtype),
            high=np.asarray(space.high, dtype=dtype),
            shape=tuple(space.shape),
            dtype=dtype,
        )
    if kind == "Discrete":
        return spaces.Discrete(int(space.n), start=int(getattr(space, "start", 0)))
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(np.asarray(space.nvec), dtype=getattr(space, "dtype", np.int64))
    if kind == "MultiBinary":
        return spaces.MultiBinary(space.n)
    if kind == "Tuple":
        return spaces.Tuple(tuple(convert_space(sub) for sub in space.spaces))
    if kind == "Dict":
        return spaces.Dict({key: convert_space(sub) for key, sub in space.spaces.items()})
    raise TypeError(f"convert_space cannot convert {type(space).__module__}.{kind} {space!r}; accepted: {_CONVERTIBLE}")
