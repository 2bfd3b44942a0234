"""The cooperative multi-agent example: the runtime sees several agents, and they learn to meet."""

import numpy as np
import pytest

from sf_examples.multi_agent import enjoy_multi_agent, train_multi_agent
from sf_runtime import create_env


@pytest.fixture(autouse=True)
def _registered():
    train_multi_agent.register_rendezvous_env()


def _random_team_average(num_agents, episodes=100):
    env = train_multi_agent.RendezvousEnv(num_agents)
    rng = np.random.default_rng(0)
    total = 0.0
    for episode in range(episodes):
        env.reset(seed=episode)
        for _ in range(train_multi_agent.EPISODE_STEPS):
            _, rewards, *_ = env.step(rng.integers(3, size=num_agents))
            total += rewards[0]
    return total / episodes


@pytest.mark.parametrize("num_agents", [2, 3])
def test_runtime_sees_one_policy_row_per_agent(num_agents):
    cfg = train_multi_agent.parse_args(["--env=rendezvous", f"--rendezvous_agents={num_agents}"])
    env = create_env("rendezvous", cfg)
    assert env.num_agents == num_agents and env.is_multiagent
    obs, _ = env.reset(seed=0)
    assert len(obs) == num_agents and obs[0]["obs"].shape == (22,)
    for _ in range(train_multi_agent.EPISODE_STEPS):
        obs, rewards, _, truncated, infos = env.step([1] * num_agents)
    assert all(truncated) and len({r for r in rewards}) == 1  # one team reward
    assert all("episode" in info for info in infos)
    env.close()


def test_one_agent_is_refused():
    with pytest.raises(ValueError, match="at least 2 agents, got --rendezvous_agents=1"):
        train_multi_agent.make_rendezvous_env(
            "rendezvous", cfg=train_multi_agent.parse_args(["--env=rendezvous", "--rendezvous_agents=1"])
        )


@pytest.mark.slow
def test_two_agents_learn_to_meet(tmp_path, train_to_reward):
    random_average = _random_team_average(2)
    threshold = 17.0
    assert random_average < 5.0
    names = ["--env=rendezvous", "--experiment=rendezvous", f"--train_dir={tmp_path}", "--device=cpu"]
    cfg = train_multi_agent.parse_args([*names, "--seed=4", "--train_for_seconds=300"])
    print(f"rendezvous: random {random_average:.1f}")
    train_to_reward(cfg, threshold)

    status, avg_reward = enjoy_multi_agent.main([*names, "--no_render", "--max_num_episodes=20"])
    print(f"rendezvous: enjoy average {avg_reward:.1f}")
    assert status == 0 and avg_reward >= threshold
