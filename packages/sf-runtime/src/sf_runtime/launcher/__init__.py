"""Sweeps: many training runs from one run description, on local processes or Ray.

* :class:`ParamGrid` / :class:`ParamList` / :func:`seeds` make parameter combinations, :class:`Experiment` pairs
  them with a command line, :class:`RunDescription` names the set (``RUN_DESCRIPTION`` of a module).
* :func:`run_sweep` runs the unfinished runs and returns a :class:`SweepResult`; :func:`launcher_main` is the
  command line of ``python -m sample_factory.launcher.run``; ``sf-cli sweep`` is sf-cli's.
* Backends: ``processes`` (:mod:`sf_runtime.launcher.processes`) and ``ray`` (:mod:`sf_runtime.launcher.ray_backend`,
  the ``sf-runtime[ray]`` extra, imported only when asked for).
"""

from sf_runtime.launcher.main import launcher_main, launcher_parser
from sf_runtime.launcher.run_description import Experiment, ParamGrid, ParamList, RunDescription, RunSpec, seeds
from sf_runtime.launcher.state import LOG_FILE, STATUS_FILE, RunRecord, SweepResult, read_status
from sf_runtime.launcher.sweep import BACKENDS, SweepError, load_run_description, run_sweep

__all__ = [
    "BACKENDS",
    "LOG_FILE",
    "STATUS_FILE",
    "Experiment",
    "ParamGrid",
    "ParamList",
    "RunDescription",
    "RunRecord",
    "RunSpec",
    "SweepError",
    "SweepResult",
    "launcher_main",
    "launcher_parser",
    "load_run_description",
    "read_status",
    "run_sweep",
    "seeds",
]
