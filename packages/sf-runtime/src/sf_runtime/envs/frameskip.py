"""``env_frameskip``: action repeat, applied by sf only where the env cannot do it itself.

Rule (the same as Sample Factory's meaning of the parameter, made safe for plain gymnasium ids):

* A factory registered with ``sf_registry.register_env`` receives ``cfg`` and is responsible for skipping
  ``cfg.env_frameskip`` frames itself (e.g. an Atari factory adds its max-and-skip wrapper); sf adds nothing.
* An env made from a plain gymnasium id (the registry's fallback) gets :class:`ActionRepeat` when
  ``env_frameskip > 1``, unless its gymnasium spec already has a ``frameskip`` argument (ALE-style envs skip frames
  themselves; pass ``frameskip`` through the env's own arguments instead).
* In every case env frames are counted as ``agent steps * env_frameskip`` (FPS and ``train_for_env_steps``), and
  episode lengths are reported in agent steps.
"""

from __future__ import annotations

from typing import Any

import gymnasium


class ActionRepeat(gymnasium.Wrapper):
    """Repeats each action ``frameskip`` times, summing the rewards; stops early when the episode ends.

    The info returned is that of the last frame stepped.
    """

    def __init__(self, env: gymnasium.Env, frameskip: int):
        super().__init__(env)
        if int(frameskip) < 1:
            raise ValueError(f"frameskip must be an integer >= 1, got {frameskip!r}")
        self.frameskip = int(frameskip)

    def step(self, action: Any):
        total_reward = 0.0
        for _ in range(self.frameskip):
            obs, reward, terminated, truncated, info = self.env.step(action)
            total_reward += float(reward)
            if terminated or truncated:
                break
        return obs, total_reward, terminated, truncated, info


def gymnasium_env_skips_frames(full_env_name: str) -> bool:
    """True when the gymnasium id names an env whose constructor takes a ``frameskip`` argument (ALE style)."""
    try:
        spec = gymnasium.spec(full_env_name)
    except gymnasium.error.Error:
        return False
    return "frameskip" in (spec.kwargs or {})
