"""Learning tests: Pendulum (continuous actions), and small custom environments that each exercise one capability.

- ``CueRecall``: a cue is shown only at the first step and must be reported at the last one. A feed-forward policy
  answers at chance (average reward 0); only a recurrent policy can carry the cue through the blank steps.
- ``TupleTarget``: a ``Tuple(Discrete, Box)`` action: pick the shown class and move to the shown position.
- ``TwoAgentMatch``: a native two-agent env with a shared (cooperative) reward; each agent must answer its own
  target, which it can only tell apart from its partner's by its agent id.

Every threshold is far above what a random policy reaches. The runs stop as soon as the average over the last
``stats_avg`` episodes crosses it (``train_for_seconds`` is only a safety cap).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces

from sf_config import make_cfg
from sf_registry import register_env
from sf_runtime import StopAtReward, enjoy, run_rl

pytestmark = pytest.mark.slow


class CueRecall(gym.Env):
    """Observe a cue (one of two) at t=0, blank steps, then a query flag at the last step; reward +-1 for the answer."""

    LENGTH = 6

    def __init__(self, render_mode=None):
        self.observation_space = spaces.Box(0.0, 1.0, (3,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.render_mode = render_mode
        self._cue = 0
        self._t = 0

    def _obs(self) -> np.ndarray:
        obs = np.zeros(3, np.float32)
        if self._t == 0:
            obs[self._cue] = 1.0
        if self._t == self.LENGTH - 1:
            obs[2] = 1.0
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._cue = int(self.np_random.integers(2))
        self._t = 0
        return self._obs(), {}

    def step(self, action):
        last = self._t == self.LENGTH - 1
        reward = (1.0 if int(action) == self._cue else -1.0) if last else 0.0
        self._t += 1
        return self._obs(), reward, last, False, {}


class TupleTarget(gym.Env):
    """Per step: a class k in {0,1,2} and a position x in [-1, 1] are shown; reward 1[d == k] + 1 - min(|a - x|, 1)."""

    LENGTH = 10

    def __init__(self, render_mode=None):
        self.observation_space = spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.action_space = spaces.Tuple((spaces.Discrete(3), spaces.Box(-1.0, 1.0, (1,), np.float32)))
        self.render_mode = render_mode
        self._t = 0

    def _new_target(self) -> np.ndarray:
        self._k = int(self.np_random.integers(3))
        self._x = float(self.np_random.uniform(-1.0, 1.0))
        obs = np.zeros(4, np.float32)
        obs[self._k] = 1.0
        obs[3] = self._x
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self._new_target(), {}

    def step(self, action):
        discrete, continuous = action
        reward = (
            float(int(discrete) == self._k)
            + 1.0
            - min(abs(float(np.asarray(continuous).reshape(-1)[0]) - self._x), 1.0)
        )
        self._t += 1
        return self._new_target(), reward, self._t >= self.LENGTH, False, {}


class TwoAgentMatch(gym.Env):
    """Two agents; each sees both targets (one of three classes each) and its own id; shared reward per step."""

    LENGTH = 10
    num_agents = 2
    is_multiagent = True

    def __init__(self, render_mode=None):
        self.observation_space = spaces.Box(0.0, 1.0, (8,), np.float32)
        self.action_space = spaces.Discrete(3)
        self.render_mode = render_mode
        self._rng = np.random.default_rng()
        self._t = 0

    def _obs(self) -> list[np.ndarray]:
        observations = []
        for agent in range(2):
            obs = np.zeros(8, np.float32)
            obs[self._targets[0]] = 1.0
            obs[3 + self._targets[1]] = 1.0
            obs[6 + agent] = 1.0
            observations.append(obs)
        return observations

    def _new_targets(self) -> None:
        self._targets = self._rng.integers(3, size=2)

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._t = 0
        self._new_targets()
        return self._obs(), [{}, {}]

    def step(self, actions):
        reward = float(np.mean([int(actions[a]) == int(self._targets[a]) for a in range(2)]))
        self._t += 1
        done = self._t >= self.LENGTH
        self._new_targets()
        return self._obs(), [reward, reward], [done, done], [False, False], [{}, {}]

    def render(self):
        return None

    def close(self):
        pass


def make_cue_recall(full_env_name, cfg=None, env_config=None, render_mode=None):
    return CueRecall(render_mode)


def make_tuple_target(full_env_name, cfg=None, env_config=None, render_mode=None):
    return TupleTarget(render_mode)


def make_two_agent_match(full_env_name, cfg=None, env_config=None, render_mode=None):
    return TwoAgentMatch(render_mode)


register_env("test_cue_recall", make_cue_recall)
register_env("test_tuple_target", make_tuple_target)
register_env("test_two_agent_match", make_two_agent_match)


def train_to(threshold: float, **overrides) -> StopAtReward:
    torch.set_num_threads(1)
    observer = StopAtReward(threshold)
    cfg = make_cfg(**overrides)
    status = run_rl(cfg, observers=[observer])
    assert status == 0
    print(
        f"{cfg.env}: reward {observer.final_reward:.3f} (threshold {threshold}) after {observer.env_steps} env steps, "
        f"reached in {observer.reached_after} s"
    )
    return observer


def evaluate(env: str, experiment: str, tmp_path, episodes: int = 20) -> float:
    """``enjoy`` the trained policy with deterministic actions; returns its average reward."""
    cfg = make_cfg(
        evaluation=True,
        env=env,
        experiment=experiment,
        train_dir=str(tmp_path),
        max_num_episodes=episodes,
        no_render=True,
        eval_deterministic=True,
    )
    status, avg_reward = enjoy(cfg)
    assert status == 0
    print(f"{env}: enjoy average reward {avg_reward:.3f} over {episodes} episodes")
    return avg_reward


# The custom envs train in the serial runner's async mode (the default), Pendulum and CartPole in its sync mode.
@pytest.fixture
def common(learning_config):
    """conftest's serial learning run, for at most 240 s."""
    return learning_config(train_for_seconds=240, seed=1)


def test_recurrent_policy_solves_cue_recall(tmp_path, common):
    # Chance level is 0; remembering the cue for 5 blank steps is needed for anything above it.
    observer = train_to(
        0.9,
        env="test_cue_recall",
        experiment="cue",
        train_dir=str(tmp_path),
        use_rnn=True,
        rnn_type="gru",
        rnn_size=32,
        **common,
    )
    assert observer.final_reward >= 0.9
    # enjoy carries the recurrent state through the episode and resets it between episodes.
    assert evaluate("test_cue_recall", "cue", tmp_path) >= 0.9


def test_tuple_actions_are_learned(tmp_path, common):
    # A random policy gets about 1/3 + ~0.4 per step (~7 per episode); 16 needs both parts of the action right.
    observer = train_to(
        16.0, env="test_tuple_target", experiment="tuple", train_dir=str(tmp_path), use_rnn=False, **common
    )
    assert observer.final_reward >= 16.0
    assert evaluate("test_tuple_target", "tuple", tmp_path) >= 16.0  # Tuple actions converted per agent


def test_two_agents_cooperate(tmp_path, common):
    # Random answers score 10/3 per episode; 9 means both agents answer their own target nearly always.
    observer = train_to(
        9.0, env="test_two_agent_match", experiment="two", train_dir=str(tmp_path), use_rnn=False, **common
    )
    assert observer.final_reward >= 9.0
    assert evaluate("test_two_agent_match", "two", tmp_path) >= 9.0  # both agents' episodes are counted


def test_pendulum_continuous_control(tmp_path, common):
    # A random policy averages about -1200 per episode; -250 means the pendulum is swung up and held.
    overrides = {**common, "batch_size": 512, "num_batches_per_epoch": 4, "rollout": 64, "num_epochs": 10}
    observer = train_to(
        -250.0,
        env="Pendulum-v1",
        experiment="pendulum",
        train_dir=str(tmp_path),
        use_rnn=False,
        async_rl=False,  # on-policy batches learn Pendulum in about half the env steps of the async mode here
        gamma=0.9,
        reward_scale=0.1,
        exploration_loss_coeff=0.0,
        **overrides,
    )
    assert observer.final_reward >= -250.0
