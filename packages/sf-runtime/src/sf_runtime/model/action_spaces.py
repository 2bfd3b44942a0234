"""What an action space means for buffers and heads: per-sample action layout, logits size, env conversion.

Supported spaces: ``Discrete``, ``MultiDiscrete`` (1-D), ``Box`` (any shape, flattened) and ``Tuple`` of these
(nested tuples are flattened). A sample's action is stored flat:

- ``Discrete``: a scalar int64 (shape ``()``);
- ``MultiDiscrete(nvec)``: ``len(nvec)`` int64 values;
- ``Box``: ``prod(shape)`` float32 values;
- ``Tuple``: the concatenation of its parts' slots (one slot per ``Discrete``), int64 if every part is discrete,
  else float32.

Discrete actions are stored as indices from 0; ``actions_to_env`` adds the space's ``start``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch


@dataclass(frozen=True)
class ActionComponent:
    """One independent part of an action space.

    Attributes:
        kind: ``"categorical"`` (Discrete), ``"multi_categorical"`` (MultiDiscrete) or ``"gaussian"`` (Box).
        num_slots: Number of flat action values it occupies.
        num_logits: Number of distribution parameters it needs (``n`` per categorical, ``2 * d`` for a Gaussian:
            means then log standard deviations).
        nvec: Category counts (categorical kinds), else empty.
        space: The gymnasium space it comes from.
    """

    kind: str
    num_slots: int
    num_logits: int
    nvec: tuple[int, ...]
    space: gym.Space


def action_components(action_space: gym.Space) -> list[ActionComponent]:
    """Flattens ``action_space`` into its independent components, in order.

    Raises:
        TypeError: For a space that is not Discrete, MultiDiscrete, Box or a Tuple of them.
    """
    if isinstance(action_space, gym.spaces.Discrete):
        n = int(action_space.n)
        return [ActionComponent("categorical", 1, n, (n,), action_space)]
    if isinstance(action_space, gym.spaces.MultiDiscrete):
        if action_space.nvec.ndim != 1:
            raise TypeError(f"MultiDiscrete action spaces need a 1-D nvec, got shape {action_space.nvec.shape}")
        nvec = tuple(int(n) for n in action_space.nvec)
        return [ActionComponent("multi_categorical", len(nvec), sum(nvec), nvec, action_space)]
    if isinstance(action_space, gym.spaces.Box):
        d = int(np.prod(action_space.shape))
        return [ActionComponent("gaussian", d, 2 * d, (), action_space)]
    if isinstance(action_space, gym.spaces.Tuple):
        components = []
        for sub in action_space.spaces:
            components += action_components(sub)
        if not components:
            raise TypeError("an empty Tuple action space has no action to take")
        return components
    raise TypeError(
        f"action space {action_space} is not supported; accepted: Discrete, MultiDiscrete, Box, or a Tuple of them"
    )


def action_layout(action_space: gym.Space) -> tuple[tuple[int, ...], torch.dtype, int]:
    """How one sample's action and distribution parameters are stored, for preallocating buffers.

    Returns:
        ``(shape, dtype, num_logits)``: the per-sample action shape (``()`` for Discrete), its torch dtype, and the
        size of the flat ``action_logits`` vector.
    """
    components = action_components(action_space)
    num_logits = sum(c.num_logits for c in components)
    if isinstance(action_space, gym.spaces.Discrete):
        return (), torch.int64, num_logits
    num_slots = sum(c.num_slots for c in components)
    all_discrete = all(c.kind != "gaussian" for c in components)
    return (num_slots,), (torch.int64 if all_discrete else torch.float32), num_logits


def action_mask_size(action_space: gym.Space) -> int:
    """Length of the ``action_mask`` observation for this space: one entry per category of each discrete part."""
    return sum(c.num_logits for c in action_components(action_space) if c.kind != "gaussian")


def _to_env(values: np.ndarray, space: gym.Space):
    if isinstance(space, gym.spaces.Discrete):
        return values.reshape(values.shape[0]).astype(np.int64) + int(space.start)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return values.astype(np.int64) + space.start.astype(np.int64)
    low = np.broadcast_to(space.low, space.shape).reshape(-1)
    high = np.broadcast_to(space.high, space.shape).reshape(-1)
    clipped = np.clip(values.astype(np.float32), low, high)
    return clipped.astype(space.dtype, copy=False).reshape(values.shape[0], *space.shape)


def _split_to_env(flat: np.ndarray, space: gym.Space, offset: int):
    if isinstance(space, gym.spaces.Tuple):
        parts = []
        for sub in space.spaces:
            part, offset = _split_to_env(flat, sub, offset)
            parts.append(part)
        return tuple(parts), offset
    width = sum(c.num_slots for c in action_components(space))
    return _to_env(flat[:, offset : offset + width], space), offset + width


def actions_to_env(actions: np.ndarray | torch.Tensor, action_space: gym.Space):
    """Converts a batch of flat sampled actions to the format the env expects.

    Args:
        actions: ``[N, *shape]`` as laid out by :func:`action_layout` (a torch tensor is moved to numpy).
        action_space: The per-agent action space.

    Returns:
        For Discrete, int64 ``[N]`` (plus ``start``); MultiDiscrete, int64 ``[N, k]``; Box, ``[N, *space.shape]``
        clipped to the space bounds in the space's dtype; Tuple, a tuple of such arrays, one per part.
    """
    if isinstance(actions, torch.Tensor):
        actions = actions.detach().cpu().numpy()
    actions = np.asarray(actions)
    if isinstance(action_space, gym.spaces.Discrete):
        return _to_env(actions.reshape(-1, 1), action_space)
    flat = actions.reshape(actions.shape[0], -1)
    converted, _ = _split_to_env(flat, action_space, 0)
    return converted
