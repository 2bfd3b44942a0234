"""The lifecycle of a parallel run, with its health figures: FPS over 10/60/300 s windows, training throughput,
policy lag, env failures, replaced workers.

:class:`ParallelLifecycle` is the shared :class:`~sf_runtime.runners.lifecycle.ExperimentLifecycle` with these
figures added to the periodic console line and to the TensorBoard summaries.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from sf_runtime.runners.lifecycle import CheckpointableLearner, ExperimentLifecycle, RunObserver
from sf_runtime.runners.parallel.reports import PolicyLag

log = logging.getLogger(__name__)

FPS_WINDOWS_SEC = (10, 60, 300)


def process_age_sec() -> float | None:
    """Seconds since this process started (from ``/proc``), or None where that cannot be read."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class RateWindows:
    """Rates of a growing counter over several trailing time windows.

    Args:
        windows: window lengths in seconds.
    """

    def __init__(self, windows: Iterable[float] = FPS_WINDOWS_SEC) -> None:
        self.windows = tuple(windows)
        self.total = 0
        self._history: deque[tuple[float, int]] = deque()
        self._history.append((time.monotonic(), 0))

    def add(self, amount: int, now: float | None = None) -> None:
        """Add to the counter."""
        self.total += int(amount)
        now = time.monotonic() if now is None else now
        self._history.append((now, self.total))
        horizon = now - max(self.windows) - 1.0
        while len(self._history) > 2 and self._history[1][0] < horizon:
            self._history.popleft()

    def rate(self, window: float, now: float | None = None) -> float:
        """Average rate per second over the last ``window`` seconds (or since the start, when shorter)."""
        now = time.monotonic() if now is None else now
        start_time, start_total = self._history[0]
        for stamp, total in self._history:
            if stamp >= now - window:
                break
            start_time, start_total = stamp, total
        elapsed = now - start_time
        return (self.total - start_total) / elapsed if elapsed > 0 else math.nan

    def rates(self, now: float | None = None) -> dict[float, float]:
        """Rates over every window."""
        now = time.monotonic() if now is None else now
        return {w: self.rate(w, now) for w in self.windows}


class LagStats:
    """Policy lag (learner version minus the version that produced a sample), aggregated between two reads."""

    def __init__(self) -> None:
        self.reset()
        self.run_min = math.inf
        self.run_max = -math.inf

    def reset(self) -> None:
        """Start a new aggregation window."""
        self.min = math.inf
        self.max = -math.inf
        self.sum = 0.0
        self.count = 0

    def add(self, lag: PolicyLag) -> None:
        """Add one training batch's lag figures."""
        self.min = min(self.min, lag.min)
        self.max = max(self.max, lag.max)
        self.run_min = min(self.run_min, lag.min)
        self.run_max = max(self.run_max, lag.max)
        self.sum += lag.sum
        self.count += lag.count

    def summary(self) -> tuple[float, float, float] | None:
        """``(min, avg, max)`` of the window, or None when nothing was trained in it."""
        if self.count == 0:
            return None
        return self.min, self.sum / self.count, self.max


class ParallelLifecycle(ExperimentLifecycle):
    """The experiment lifecycle with the parallel runner's throughput and lag figures.

    Args:
        cfg: the resolved configuration.
        policy_ids: the trained policies.
        observers: callbacks into the run.
    """

    def __init__(self, cfg: Any, policy_ids: Iterable[int], observers: Iterable[RunObserver] = ()) -> None:
        super().__init__(cfg, policy_ids, observers)
        self.created = time.monotonic()
        self.frames = RateWindows()
        self.samples = {pid: RateWindows() for pid in self.policy_ids}
        self.report_lag = {pid: LagStats() for pid in self.policy_ids}
        self.summary_lag = {pid: LagStats() for pid in self.policy_ids}
        self.env_failures = 0
        self.worker_replacements = 0
        self._sampled = False

    def record_env_failure(self) -> int:
        """Count an env exception in a rollout worker (see ``max_env_failures``); the count so far."""
        self.env_failures += 1
        return self.env_failures

    def record_worker_replacement(self) -> int:
        """Count a rollout worker process replaced after it died; the count so far."""
        self.worker_replacements += 1
        return self.worker_replacements

    def restart_clocks(self) -> None:
        """Start the FPS windows now (after startup, so that startup time does not dilute the first figures)."""
        self.frames = RateWindows()
        self.samples = {pid: RateWindows() for pid in self.policy_ids}

    def record_frames(self, frames: int) -> None:
        """Count env frames sampled by rollout workers (the first ones are logged with the seconds since the
        run and its process started)."""
        if frames and not self._sampled:
            self._sampled = True
            into_run = time.monotonic() - self.created
            age = process_age_sec()
            log.info(
                "First samples arrived, %.1fs into the run%s",
                into_run,
                "" if age is None else f" ({age:.1f}s after launch of its process)",
            )
        self.frames.add(frames)

    def record_training(self, policy_id: int, samples: int, lag: PolicyLag) -> None:
        """Count samples trained on by a policy's learner and their policy lag."""
        self.samples[policy_id].add(samples)
        self.report_lag[policy_id].add(lag)
        self.summary_lag[policy_id].add(lag)

    def report(self, now: float | None = None) -> None:
        """Log FPS (10/60/300 s), total frames, training throughput, policy lag and average reward per policy."""
        now = time.monotonic() if now is None else now
        self._last_report = now
        fps = ", ".join(f"{int(w)} sec: {r:,.1f}" for w, r in self.frames.rates(now).items())
        parts = [f"Fps is ({fps}). Total num frames: {self.frames.total:,}."]
        for pid in self.policy_ids:
            line = f"p{pid}: FPS {self.samples[pid].rate(10, now):,.1f} (frames trained on per second)"
            lag = self.report_lag[pid].summary()
            self.report_lag[pid].reset()
            if lag is not None:
                line += f", policy lag (min/avg/max) {lag[0]:.0f}/{lag[1]:.1f}/{lag[2]:.0f}"
            reward = self.mean_reward(pid)
            if reward is not None:
                line += f", avg reward {reward:.3f} ({self.stats[pid].num_episodes} episodes)"
            parts.append(line + ".")
        if self.env_failures:
            parts.append(f"Env failures: {self.env_failures} (max_env_failures={self.cfg.max_env_failures}).")
        if self.worker_replacements:
            parts.append(f"Rollout workers replaced: {self.worker_replacements}.")
        log.info("%s", " ".join(parts))

    def write_summaries(self, learners: Mapping[int, CheckpointableLearner]) -> None:
        """The shared summaries plus ``perf/fps_<window>``, ``perf/samples_per_sec``, ``perf/env_failures``,
        ``perf/worker_replacements`` and ``policy_lag/*``."""
        super().write_summaries(learners)
        now = time.monotonic()
        rates = self.frames.rates(now)
        for pid in self.policy_ids:
            scalars = {f"perf/fps_{int(w)}s": r for w, r in rates.items() if not math.isnan(r)}
            scalars["perf/samples_per_sec"] = self.samples[pid].rate(FPS_WINDOWS_SEC[0], now)
            scalars["perf/env_failures"] = float(self.env_failures)
            scalars["perf/worker_replacements"] = float(self.worker_replacements)
            lag = self.summary_lag[pid].summary()
            self.summary_lag[pid].reset()
            if lag is not None:
                scalars.update({"policy_lag/min": lag[0], "policy_lag/avg": lag[1], "policy_lag/max": lag[2]})
            self.summaries[pid].scalars(scalars, self.env_steps[pid])
            self.summaries[pid].flush()

    def policy_lag_range(self, policy_id: int) -> tuple[float, float] | None:
        """``(min, max)`` policy lag of every sample a policy trained on in this run, or None before any training."""
        stats = self.summary_lag[policy_id]
        if stats.run_max < 0:
            return None
        return stats.run_min, stats.run_max

    def final_lag_line(self) -> str:
        """The policy lag over the whole run, per policy, for the closing log line."""
        parts = []
        for pid in self.policy_ids:
            stats = self.summary_lag[pid]
            if stats.run_max >= 0:
                parts.append(f"p{pid} min {stats.run_min:.0f} max {stats.run_max:.0f}")
        line = "Policy lag over the run: " + ("; ".join(parts) if parts else "no training step")
        if self.worker_replacements:
            line += f". Rollout workers replaced after they died: {self.worker_replacements}"
        return line
