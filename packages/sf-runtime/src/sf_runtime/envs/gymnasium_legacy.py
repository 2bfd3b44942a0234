"""Names of gymnasium 0.x that scripts written for Sample Factory 2 use, provided on gymnasium 1.x.

Sample Factory 2.1.1 ran on gymnasium 0.27-0.29. Gymnasium 1.0 renamed two observation wrappers and stopped
registering the Atari ids of ale-py by itself, so an unchanged Sample Factory script fails on it before training:

- ``gymnasium.wrappers.GrayScaleObservation(env, keep_dim=False)``, now ``GrayscaleObservation``;
- ``gymnasium.wrappers.FrameStack(env, num_stack)``, now ``FrameStackObservation(env, stack_size)`` (the stack is a
  numpy array instead of ``LazyFrames``; ``np.array`` of either gives the same array);
- ``gymnasium.make("BreakoutNoFrameskip-v4")``, which needs ``import ale_py`` first on gymnasium 1.x.

:func:`provide_gymnasium_0x_names` adds what is missing and changes nothing that exists, so code written for
gymnasium 1.x is not affected. The ``sample_factory`` compatibility package calls it on import.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import gymnasium
from gymnasium import wrappers


class GrayScaleObservation(wrappers.GrayscaleObservation):
    """Gymnasium 0.x's name and signature of :class:`gymnasium.wrappers.GrayscaleObservation`.

    Args:
        env: An env with RGB image observations ``(H, W, 3)``.
        keep_dim: Keep a trailing channel axis of size 1.
    """

    def __init__(self, env: gymnasium.Env, keep_dim: bool = False):
        super().__init__(env, keep_dim=keep_dim)


class FrameStack(wrappers.FrameStackObservation):
    """Gymnasium 0.x's name and signature of :class:`gymnasium.wrappers.FrameStackObservation`.

    The first observation of an episode fills the whole stack, as gymnasium 0.x's ``FrameStack`` did.

    Args:
        env: The env whose observations are stacked.
        num_stack: How many consecutive observations one observation holds.
        lz4_compress: Accepted for compatibility; gymnasium 1.x keeps frames uncompressed.
    """

    def __init__(self, env: gymnasium.Env, num_stack: int, lz4_compress: bool = False):
        super().__init__(env, stack_size=num_stack, padding_type="reset")


_RENAMED: dict[str, Any] = {"GrayScaleObservation": GrayScaleObservation, "FrameStack": FrameStack}


def provide_gymnasium_0x_names() -> None:
    """Makes gymnasium 0.x names that gymnasium 1.x lacks available, and registers ale-py's Atari ids if installed.

    Idempotent; names gymnasium already has are left alone.

    Example:
        >>> import gymnasium
        >>> provide_gymnasium_0x_names()
        >>> env = gymnasium.wrappers.FrameStack(gymnasium.make("CartPole-v1"), 4)
        >>> env.observation_space.shape
        (4, 4)
    """
    for name, wrapper in _RENAMED.items():
        if not hasattr(wrappers, name):
            setattr(wrappers, name, wrapper)
    if "ALE/Breakout-v5" not in gymnasium.registry and importlib.util.find_spec("ale_py") is not None:
        import ale_py

        gymnasium.register_envs(ale_py)
