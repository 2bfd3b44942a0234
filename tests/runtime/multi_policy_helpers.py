"""Helpers of the multi-policy tests: the example games' configs, TensorBoard tags, a policy against a random one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from sf_config import make_cfg
from sf_examples.self_play.train_self_play import register_self_play_envs, self_play_defaults
from sf_runtime import create_env
from sf_runtime.learning import Learner
from sf_runtime.storage import CheckpointManager


def game_cfg(tmp_path: Path, env: str, experiment: str, **overrides):
    """A cfg of one of the example games, with the example's env defaults (two policies, small model)."""
    register_self_play_envs()
    base = dict(self_play_defaults, env=env, experiment=experiment, train_dir=str(tmp_path), device="cpu", seed=1)
    return make_cfg(**{**base, **overrides})


def summary_scalars(cfg, policy_id: int) -> dict[str, list[float]]:
    """Every scalar a policy's ``.summary/<policy>/`` holds, by tag."""
    folder = Path(cfg.train_dir) / cfg.experiment / ".summary" / str(policy_id)
    acc = EventAccumulator(str(folder))
    acc.Reload()
    return {tag: [event.value for event in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def load_policy(cfg, policy_id: int, env) -> torch.nn.Module:
    """The actor-critic of a policy's latest checkpoint."""
    state = CheckpointManager(cfg, policy_id).load()
    assert state is not None, f"no checkpoint of policy {policy_id}"
    learner = Learner(cfg, env.observation_space, env.action_space, policy_id=policy_id, device=torch.device("cpu"))
    learner.load_checkpoint_state(state["learner"])
    learner.actor_critic.eval()
    return learner.actor_critic


def score_against_random(cfg, policy_id: int, episodes: int = 100, seed: int = 0) -> float:
    """Average episode reward of a policy in a two-agent game against a frozen uniformly random opponent.

    The policy plays seat 0 in half of the episodes and seat 1 in the other half.
    """
    env = create_env(cfg.env, cfg)
    model = load_policy(cfg, policy_id, env)
    rng = np.random.default_rng(seed)
    total = 0.0
    rnn = torch.zeros((1, model.rnn_state_size))
    for episode in range(episodes):
        seat = episode % 2
        obs, _ = env.reset(seed=seed * 10_000 + episode)
        done = False
        while not done:
            with torch.no_grad():
                x = {key: torch.as_tensor(value)[None] for key, value in obs[seat].items()}
                action = int(model(model.normalize_obs(x), rnn)["actions"].reshape(-1)[0])
            actions = [0, 0]
            actions[seat], actions[1 - seat] = action, int(rng.integers(env.action_space.n))
            obs, rewards, terminated, truncated, _ = env.step(actions)
            total += rewards[seat]
            done = terminated[seat] or truncated[seat]
    env.close()
    return total / episodes


def random_score(env_name: str, cfg, episodes: int = 200, seed: int = 0) -> float:
    """Average episode reward of seat 0 when both agents play uniformly at random."""
    env = create_env(env_name, cfg)
    rng = np.random.default_rng(seed)
    total = 0.0
    for episode in range(episodes):
        env.reset(seed=episode)
        done = False
        while not done:
            _, rewards, terminated, truncated, _ = env.step(list(rng.integers(env.action_space.n, size=2)))
            total += rewards[0]
            done = terminated[0] or truncated[0]
    env.close()
    return total / episodes
