"""Observers of a training run (:class:`sf_runtime.RunObserver`): live progress, the env-module record, FPS.

:class:`ProgressObserver` is called by the runner after every iteration with the run's counters (env steps, seconds,
average episode reward). It shows the fraction of the budget done, whichever of ``train_for_env_steps`` and
``train_for_seconds`` is closer to its end, the FPS over the last few seconds, the average reward and the ETA: as a
live bar on a terminal (:class:`~sf_cli._console.StatusLine`), as plain periodic lines otherwise. With several
policies, each policy's FPS and average reward follow (``p0 1,200 FPS reward 3.20``).
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import deque
from typing import Any, TextIO

from sf_cli._console import StatusLine
from sf_config import experiment_dir
from sf_runtime import RunObserver

UNBOUNDED = 1e9
"""Budgets at or above this (the schema's defaults are 1e10) count as "no budget": no bar, no ETA."""


def _format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _format_count(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{int(n)}"


class ProgressObserver(RunObserver):
    """Reports a training run's progress toward its budget.

    Args:
        stream: Where to write (stderr by default).
        bar: Draw a live bar (for terminals); when False, write a plain line every ``interval`` seconds.
        interval: Seconds between plain lines (bar mode redraws several times a second).
        status: The :class:`StatusLine` to draw on in bar mode (made from ``stream`` if not given).
    """

    def __init__(
        self, stream: TextIO | None = None, *, bar: bool, interval: float = 10.0, status: StatusLine | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.bar = bar
        self.interval = interval if not bar else 0.25
        self.status = status or (StatusLine(self.stream) if bar else None)
        self._window: deque[tuple[float, int]] = deque()
        self._policy_windows: dict[int, deque[tuple[float, int]]] = {}
        self._last_output = -math.inf
        self.last_line = ""

    # --- RunObserver --------------------------------------------------------------------------------------------

    def on_start(self, run: Any) -> None:
        self._window.clear()
        self._window.append((time.monotonic(), run.total_env_steps))
        self._policy_windows.clear()
        self._last_output = -math.inf
        self._show(run, force=True)

    def on_iteration(self, run: Any) -> None:
        self._show(run)

    def on_finish(self, run: Any) -> None:
        self._show(run, force=True)
        if self.status is not None:
            self.status.finish()

    # --- rendering ----------------------------------------------------------------------------------------------

    @staticmethod
    def _windowed_rate(window: deque[tuple[float, int]], now: float, steps: int) -> float:
        window.append((now, steps))
        while len(window) > 2 and now - window[0][0] > 10.0:
            window.popleft()
        t0, s0 = window[0]
        return (steps - s0) / (now - t0) if now > t0 else 0.0

    def _fps(self, now: float, steps: int) -> float:
        return self._windowed_rate(self._window, now, steps)

    def _policy_fps(self, run: Any, now: float) -> dict[int, float]:
        policy_ids = list(getattr(run, "policy_ids", []))
        if len(policy_ids) < 2:
            return {}
        return {
            pid: self._windowed_rate(self._policy_windows.setdefault(pid, deque()), now, run.env_steps[pid])
            for pid in policy_ids
        }

    def line(self, run: Any, fps: float, policy_fps: dict[int, float] | None = None) -> tuple[float | None, str]:
        """(fraction of the budget done or None, the text of the progress line) for the run's current counters.

        ``policy_fps``: each policy's FPS, shown with its reward when the run has several policies.
        """
        cfg = run.cfg
        steps = run.total_env_steps
        num_policies = max(1, len(getattr(run, "policy_ids", [0])))
        target_steps = cfg.train_for_env_steps * num_policies
        fractions, etas = [], []
        if cfg.train_for_env_steps < UNBOUNDED:
            fractions.append(steps / max(target_steps, 1))
            etas.append((target_steps - steps) / fps if fps > 0 else math.inf)
        if cfg.train_for_seconds < UNBOUNDED:
            fractions.append(run.train_seconds / max(cfg.train_for_seconds, 1e-9))
            etas.append(cfg.train_for_seconds - run.train_seconds)
        fraction = min(1.0, max(fractions)) if fractions else None
        parts = [
            f"{_format_count(steps)}"
            + (f"/{_format_count(target_steps)}" if cfg.train_for_env_steps < UNBOUNDED else "")
            + " env steps"
        ]
        parts.append(f"{fps:,.0f} FPS")
        policy_ids = list(getattr(run, "policy_ids", None) or [])
        if len(policy_ids) > 1:
            for pid in policy_ids:
                reward = run.mean_reward(pid)
                policy_part = f"p{pid} {(policy_fps or {}).get(pid, 0.0):,.0f} FPS"
                parts.append(policy_part + " reward " + (f"{reward:.2f}" if reward is not None else "-"))
        else:
            reward = run.mean_reward(policy_ids[0]) if policy_ids else None
            parts.append("reward " + (f"{reward:.2f}" if reward is not None else "-"))
        if etas:  # before the elapsed time: a narrow terminal cuts the end of the line
            parts.append(f"ETA {_format_duration(max(0.0, min(etas)))}")
        parts.append(f"elapsed {_format_duration(run.session_seconds)}")
        return fraction, " | ".join(parts)

    def _show(self, run: Any, force: bool = False) -> None:
        now = time.monotonic()
        fps = self._fps(now, run.total_env_steps)
        policy_fps = self._policy_fps(run, now)
        if not force and now - self._last_output < self.interval:
            return
        self._last_output = now
        fraction, text = self.line(run, fps, policy_fps)
        if force and text == self.last_line:
            return  # e.g. on_finish right after the last iteration's line
        self.last_line = text
        if self.bar and self.status is not None:
            if fraction is not None:
                width = 20
                filled = round(fraction * width)
                text = f"[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}% | " + text
            self.status.draw(text)
        else:
            prefix = f"{fraction * 100:5.1f}% | " if fraction is not None else ""
            self.stream.write("progress: " + prefix + text + "\n")
            self.stream.flush()


CLI_STATE_FILE = ".sf_cli.json"
"""Written into the experiment folder by train: the ``--env-module`` modules, so that enjoy can import them again."""


class EnvModulesRecorder(RunObserver):
    """Writes the ``--env-module`` list into the experiment folder once the runtime has created it.

    Args:
        modules: The modules (``.py`` paths absolute, so that enjoy can run from another folder).
    """

    def __init__(self, modules: list[str]) -> None:
        self.modules = modules

    def on_start(self, run: Any) -> None:
        if not self.modules:
            return
        path = experiment_dir(run.cfg) / CLI_STATE_FILE
        path.write_text(json.dumps({"env_modules": self.modules}, indent=2), encoding="utf-8")


class RateMeter(RunObserver):
    """Measures env steps per second of a run from its first iteration (startup excluded) to its end."""

    def __init__(self) -> None:
        self.first: tuple[float, int] | None = None
        self.last: tuple[float, int] | None = None

    def on_iteration(self, run: Any) -> None:
        point = (time.monotonic(), run.total_env_steps)
        if self.first is None:
            self.first = point
        self.last = point

    @property
    def fps(self) -> float | None:
        """Env steps per second between the first and the last iteration, or None before two iterations."""
        if self.first is None or self.last is None or self.last[0] <= self.first[0]:
            return None
        return (self.last[1] - self.first[1]) / (self.last[0] - self.first[0])
