"""Two small two-agent games, cheap to step, for training several policies together (``num_policies=2``).

Both follow Sample Factory's multi-agent convention (``is_multiagent = True``, ``num_agents``, per-agent lists) and
show each agent the round's cue and its own agent id, so one policy can play either seat.

- :class:`MatchingGame` (cooperative, coordination needed): each step a cue ``s`` in ``0..K-1`` is drawn; both agents
  get reward 1 when their actions add up to ``s`` (mod ``K``), else 0. No agent can score alone: for every cue the two
  must settle on the same split. Random play scores ``LENGTH / K`` per episode (2.7 with K=3, LENGTH=8), the optimum
  ``LENGTH`` (8).
- :class:`TargetDuel` (competitive, zero-sum): each step a target ``t`` in ``0..K-1`` is drawn; the agent whose action
  is closer to ``t`` gets +1 and the other -1 (a tie gives 0 to both). Random against random scores 0 on average;
  a policy that always hits the target scores ``LENGTH * (1 - 1/K)`` (6.4 with K=5, LENGTH=8) against a random one.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np


class _TwoAgentCueGame(gym.Env):
    """Two agents, ``K`` actions, a cue per step shown to both with the agent's own id, episodes of ``LENGTH``."""

    K = 3
    LENGTH = 8
    is_multiagent = True
    num_agents = 2

    def __init__(self, render_mode: str | None = None) -> None:
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self.K + 2,), np.float32)
        self.action_space = gym.spaces.Discrete(self.K)
        self.render_mode = render_mode
        self.cue = 0
        self.steps = 0

    def _observations(self) -> list[np.ndarray]:
        observations = []
        for agent in range(2):
            obs = np.zeros(self.K + 2, np.float32)
            obs[self.cue] = 1.0
            obs[self.K + agent] = 1.0
            observations.append(obs)
        return observations

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[list[np.ndarray], list[dict]]:
        super().reset(seed=seed)
        self.steps = 0
        self.cue = int(self.np_random.integers(self.K))
        return self._observations(), [{}, {}]

    def rewards(self, actions: Sequence[int]) -> list[float]:
        """Both agents' rewards for one step's actions (given the current cue)."""
        raise NotImplementedError

    def step(self, actions: Sequence[int]) -> tuple[list[np.ndarray], list[float], list[bool], list[bool], list[dict]]:
        rewards = self.rewards([int(a) for a in actions])
        self.steps += 1
        self.cue = int(self.np_random.integers(self.K))
        truncated = self.steps >= self.LENGTH
        return self._observations(), rewards, [False, False], [truncated, truncated], [{}, {}]

    def render(self) -> None:
        return None


class MatchingGame(_TwoAgentCueGame):
    """Cooperative: reward 1 to both when the two actions add up to the cue (mod K); see the module doc."""

    def rewards(self, actions: Sequence[int]) -> list[float]:
        reward = float((actions[0] + actions[1]) % self.K == self.cue)
        return [reward, reward]


class TargetDuel(_TwoAgentCueGame):
    """Competitive: +1 to the agent closer to the target, -1 to the other; see the module doc."""

    K = 5

    def rewards(self, actions: Sequence[int]) -> list[float]:
        d0, d1 = abs(actions[0] - self.cue), abs(actions[1] - self.cue)
        r0 = float(np.sign(d1 - d0))
        return [r0, -r0]
