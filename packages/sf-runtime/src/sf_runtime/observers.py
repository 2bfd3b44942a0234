"""Ready-made :class:`~sf_runtime.RunObserver` subclasses for ``run_rl(cfg, observers=[...])``."""

from __future__ import annotations

import math

from sf_runtime.runners.lifecycle import ExperimentLifecycle, RunObserver


class StopAtReward(RunObserver):
    """Stops a training run once a policy's average episode reward reaches a target, and records how it went.

    The average is the run's own, over the policy's last ``stats_avg`` episodes; it counts only once that many episodes
    have ended, so that a few lucky first episodes do not stop the run. The run stops as any requested stop does: after
    the current iteration, with a final checkpoint, and ``run_rl`` returns 0.

    Args:
        reward: The target average episode reward.
        policy_id: The policy whose average is watched.

    Attributes:
        best: The highest average seen (over full windows of episodes); ``-inf`` before the first.
        reached_at_env_steps: The run's env steps when the target was first reached, or None.
        reached_after: Seconds from the start of the run (this session) to then, or None.
        final_reward: The policy's average episode reward when the run finished (None without episodes).
        env_steps: The run's env steps when it finished.

    Example:
        >>> from sf_config import make_cfg
        >>> from sf_runtime import StopAtReward, run_rl
        >>> stop = StopAtReward(450.0)
        >>> cfg = make_cfg(env="CartPole-v1", experiment="cartpole", serial_mode=True, use_rnn=False)
        >>> run_rl(cfg, observers=[stop])  # doctest: +SKIP
        0
        >>> stop.reached_at_env_steps is not None  # doctest: +SKIP
        True
    """

    def __init__(self, reward: float, policy_id: int = 0) -> None:
        self.reward = reward
        self.policy_id = policy_id
        self.best = -math.inf
        self.reached_at_env_steps: int | None = None
        self.reached_after: float | None = None
        self.final_reward: float | None = None
        self.env_steps = 0

    def on_iteration(self, run: ExperimentLifecycle) -> None:
        average = run.mean_reward(self.policy_id)
        if average is None or run.stats[self.policy_id].num_episodes < run.cfg.stats_avg:
            return
        self.best = max(self.best, average)
        if average >= self.reward:
            if self.reached_at_env_steps is None:
                self.reached_at_env_steps = run.total_env_steps
                self.reached_after = run.session_seconds
            run.request_stop(f"average reward {average:.3f} of policy {self.policy_id} >= {self.reward}")

    def on_finish(self, run: ExperimentLifecycle) -> None:
        self.final_reward = run.mean_reward(self.policy_id)
        self.env_steps = run.total_env_steps
