"""A training run made in steps: make it, attach observers, ``init()``, ``run()`` (Sample Factory 2's way).

:func:`~sf_runtime.run_rl` trains in one call with :class:`RunObserver` callbacks. Scripts written for Sample Factory 2
instead make a :class:`Runner` (``cfg, runner = make_runner(cfg)``), register :class:`AlgoObserver` objects (whose
callbacks receive the runner) and episodic-statistics handlers on it, then call ``runner.init()`` and
``runner.run()``. The runner turns them into :class:`RunObserver` callbacks of one ``run_rl`` call:

=============================================================  ========================================================
AlgoObserver callback                                          when
=============================================================  ========================================================
``on_init(runner)``, ``on_connect_components(runner)``         in ``runner.init()``, in that order
``on_start(runner)``                                           ``RunObserver.on_start``: directory ready, checkpoints
                                                               restored
``on_training_step(runner, training_iteration_since_resume)``  ``RunObserver.on_training_step``: after each training
                                                               step of a learner (counted from 1 in this run)
``extra_summaries(runner, policy_id, env_steps, writer)``      ``RunObserver.extra_summaries``: ``writer.add_scalar
                                                               (tag, value)`` adds a scalar to the policy's summaries
``on_stop(runner)``                                            ``RunObserver.on_finish``: after the final checkpoint
=============================================================  ========================================================

An episodic-statistics handler ``handler(runner, msg, policy_id)`` is called for each finished episode with
``msg = {EPISODIC: {"reward": ..., "length": ..., "episode_extra_stats": {...}}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sf_config import ConfigError, validate_cfg
from sf_runtime.outcome import ExperimentStatus
from sf_runtime.runners.lifecycle import ExperimentLifecycle, RunObserver

log = logging.getLogger(__name__)

EPISODIC = "episodic"
"""The key of an episode's statistics in the message handed to episodic-statistics handlers."""

# Keys of sf's episode records that are not the env's own ``episode_extra_stats``.
_EPISODE_RECORD_KEYS = ("reward", "length", "policy_agent", "policy_id")

EpisodicStatsHandler = Callable[["Runner", dict[str, Any], int], None]


class AlgoObserver:
    """Sample Factory 2's observer of a training run: callbacks that receive the :class:`Runner`.

    Subclass it, override what you need (the defaults do nothing), and attach an instance with
    :meth:`Runner.register_observer` before ``runner.run()``. ``runner.cfg`` is the run's configuration and
    ``runner.lifecycle`` (during the run) its :class:`~sf_runtime.ExperimentLifecycle`: env-step counts, episode
    statistics, ``request_stop(reason)``.
    """

    def on_init(self, runner: Runner) -> None:
        """In ``runner.init()``, before anything of the run starts."""

    def on_connect_components(self, runner: Runner) -> None:
        """In ``runner.init()``, after :meth:`on_init` (sf has no signal slots to connect; kept for old observers)."""

    def on_start(self, runner: Runner) -> None:
        """Once the experiment directory is ready and the checkpoints are restored, before the first iteration."""

    def on_training_step(self, runner: Runner, training_iteration_since_resume: int) -> None:
        """After each training step of a learner; the count starts at 1 in each run (also a resumed one)."""

    def extra_summaries(self, runner: Runner, policy_id: int, env_steps: int, writer: Any) -> None:
        """When a policy's summaries are written: ``writer.add_scalar(tag, value)`` adds scalars to them.

        The scalars are written at the policy's summary step with the others; a ``global_step`` given to
        ``add_scalar`` is ignored.
        """

    def on_stop(self, runner: Runner) -> None:
        """After the final checkpoint (also after an interruption's checkpoint)."""


class _ScalarCollector:
    """The ``writer`` of :meth:`AlgoObserver.extra_summaries`: collects ``add_scalar`` calls into a dict."""

    def __init__(self) -> None:
        self.scalars: dict[str, float] = {}

    def add_scalar(self, tag: str, scalar_value: Any, global_step: Any = None, *args: Any, **kwargs: Any) -> None:
        self.scalars[str(tag)] = float(scalar_value)


class _AlgoObserverAdapter(RunObserver):
    """Calls an :class:`AlgoObserver` with the runner, from the callbacks of a run."""

    def __init__(self, runner: Runner, observer: AlgoObserver) -> None:
        self.runner = runner
        self.observer = observer

    def on_start(self, run: ExperimentLifecycle) -> None:
        self.observer.on_start(self.runner)

    def on_training_step(self, run: ExperimentLifecycle, policy_id: int) -> None:
        self.observer.on_training_step(self.runner, run.training_steps)

    def extra_summaries(self, run: ExperimentLifecycle, policy_id: int) -> Mapping[str, float]:
        writer = _ScalarCollector()
        self.observer.extra_summaries(
            self.runner, policy_id=policy_id, env_steps=run.env_steps[policy_id], writer=writer
        )
        return writer.scalars

    def on_finish(self, run: ExperimentLifecycle) -> None:
        self.observer.on_stop(self.runner)


class _RunnerLink(RunObserver):
    """Keeps the runner's ``cfg`` and ``lifecycle`` current, and calls its episodic-statistics handlers."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    def on_start(self, run: ExperimentLifecycle) -> None:
        self.runner.lifecycle = run
        self.runner.cfg = run.cfg  # with the saved config.json layered in when resuming

    def on_episode(self, run: ExperimentLifecycle, policy_id: int, episode: Mapping[str, Any]) -> None:
        handlers = self.runner.episodic_stats_handlers
        if not handlers:
            return
        extra = {key: value for key, value in episode.items() if key not in _EPISODE_RECORD_KEYS}
        stats = {"reward": episode.get("reward"), "length": episode.get("length"), "episode_extra_stats": extra}
        for handler in handlers:
            handler(self.runner, {EPISODIC: stats}, policy_id)


class Runner:
    """One training run, made in steps so that observers can be attached first (Sample Factory 2's runner).

    Make it with :func:`make_runner`, attach :class:`AlgoObserver` or :class:`~sf_runtime.RunObserver` objects
    with :meth:`register_observer`, then call :meth:`init` and, when it returned ``ExperimentStatus.SUCCESS``,
    :meth:`run`, which trains with :func:`~sf_runtime.run_rl`.

    Args:
        cfg: The resolved configuration.

    Attributes:
        cfg: The configuration; during the run, the run's own (with the saved ``config.json`` layered in when
            resuming).
        observers: The registered observers, in order.
        episodic_stats_handlers: The registered episodic-statistics handlers, in order.
        lifecycle: The run's :class:`~sf_runtime.ExperimentLifecycle` once it started, else None.

    Example:
        >>> from sf_config import make_cfg
        >>> from sf_runtime import AlgoObserver, ExperimentStatus, make_runner
        >>> class StopAfterTwoSteps(AlgoObserver):
        ...     def on_training_step(self, runner, training_iteration_since_resume):
        ...         if training_iteration_since_resume >= 2:
        ...             runner.lifecycle.request_stop("two training steps")
        >>> cfg, runner = make_runner(make_cfg(env="CartPole-v1", serial_mode=True))  # doctest: +SKIP
        >>> runner.register_observer(StopAfterTwoSteps())  # doctest: +SKIP
        >>> if runner.init() == ExperimentStatus.SUCCESS:  # doctest: +SKIP
        ...     status = runner.run()
    """

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.observers: list[AlgoObserver | RunObserver] = []
        self.episodic_stats_handlers: list[EpisodicStatsHandler] = []
        self.lifecycle: ExperimentLifecycle | None = None
        self._initialized = False

    def register_observer(self, observer: AlgoObserver | RunObserver) -> None:
        """Attaches an observer to the run; call it before :meth:`run`.

        Args:
            observer: An :class:`AlgoObserver` (callbacks receive this runner) or a :class:`~sf_runtime.RunObserver`
                (callbacks receive the run's lifecycle).

        Raises:
            TypeError: observer is neither.
        """
        if not isinstance(observer, AlgoObserver | RunObserver):
            raise TypeError(
                f"register_observer takes an AlgoObserver or a RunObserver (an instance of a subclass), got "
                f"{type(observer).__name__} {observer!r}"
            )
        self.observers.append(observer)

    def register_episodic_stats_handler(self, handler: EpisodicStatsHandler) -> None:
        """Attaches ``handler(runner, msg, policy_id)``, called for each finished episode of the run.

        ``msg[EPISODIC]`` is ``{"reward": float, "length": int, "episode_extra_stats": dict}``: the episode's return,
        its length in agent steps, and what the env reported in ``info["episode_extra_stats"]`` on its last step.

        Args:
            handler: The callable.

        Raises:
            TypeError: handler is not callable.
        """
        if not callable(handler):
            raise TypeError(
                "register_episodic_stats_handler takes a callable handler(runner, msg, policy_id), got "
                f"{type(handler).__name__} {handler!r}"
            )
        self.episodic_stats_handlers.append(handler)

    def init(self) -> ExperimentStatus:
        """Checks the configuration and calls the observers' ``on_init`` and ``on_connect_components``.

        Nothing is created yet: the envs, the experiment directory and the processes are made by :meth:`run`.

        Returns:
            ``ExperimentStatus.SUCCESS``, or ``ExperimentStatus.FAILURE`` when the configuration is invalid (the log
            says why).
        """
        try:
            self.cfg = validate_cfg(self.cfg)
        except ConfigError as exc:
            log.error("Invalid configuration: %s", exc)
            return ExperimentStatus.FAILURE
        algo_observers = [observer for observer in self.observers if isinstance(observer, AlgoObserver)]
        for observer in algo_observers:
            observer.on_init(self)
        for observer in algo_observers:
            observer.on_connect_components(self)
        self._initialized = True
        return ExperimentStatus.SUCCESS

    def run(self) -> ExperimentStatus:
        """Trains with :func:`~sf_runtime.run_rl` and the registered observers; returns how the run ended.

        Returns:
            ``SUCCESS``, ``FAILURE`` or ``INTERRUPTED`` (after a checkpoint).

        Raises:
            RuntimeError: :meth:`init` was not called, or did not succeed.
        """
        if not self._initialized:
            raise RuntimeError("Runner.run() needs a successful Runner.init() first (it returns ExperimentStatus)")
        from sf_runtime.runners import run_rl

        observers: list[RunObserver] = [_RunnerLink(self)]
        for observer in self.observers:
            observers.append(_AlgoObserverAdapter(self, observer) if isinstance(observer, AlgoObserver) else observer)
        return ExperimentStatus(run_rl(self.cfg, observers))


def make_runner(cfg: Any) -> tuple[Any, Runner]:
    """Makes a :class:`Runner` for a configuration, to attach observers to before training.

    Args:
        cfg: The resolved configuration (``parse_full_cfg`` or ``make_cfg``).

    Returns:
        ``(cfg, runner)``, as Sample Factory 2's ``make_runner`` returns them.
    """
    return cfg, Runner(cfg)
