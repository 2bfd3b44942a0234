"""What a sweep runs: :class:`ParamGrid` (or :class:`ParamList`) -> :class:`Experiment` -> :class:`RunDescription`.

A run description is a Python module with a ``RUN_DESCRIPTION``; each point of each experiment's parameters becomes one
run, a command line of its own with ``--param=value`` appended, in its own experiment directory::

    from sf_runtime import Experiment, ParamGrid, RunDescription

    _params = ParamGrid([("seed", [1, 2]), ("learning_rate", [1e-3, 3e-4])])
    RUN_DESCRIPTION = RunDescription(
        "cartpole_lr",
        experiments=[
            Experiment(
                "cartpole",
                "python -m sf_examples.gym_classic.train_gym_classic --env=CartPole-v1",
                _params.generate_params(randomize=False),
            )
        ],
    )

The run ``cartpole_seed_1_learning_rate_0.001`` gets ``--seed=1 --learning_rate=0.001
--experiment=cartpole_seed_1_learning_rate_0.001 --train_dir=<train_dir>/cartpole_lr`` and so lives in
``<train_dir>/cartpole_lr/cartpole_seed_1_learning_rate_0.001/``. Names are made of the parameters, not of their
position, so a grid that gains a value keeps the names (and the finished runs) it had.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import random
import re
import shlex
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

# The longest experiment name made from parameters; a longer one is cut and ends with a hash of the whole.
MAX_NAME_LENGTH = 120
# Seed of the shuffle of generate_params(randomize=True) and of seeds(): a re-run must see the same runs.
_STABLE_SEED = 20220214
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._+-]+")
_INTERPRETER_NAMES = {"python", "python3", f"python3.{sys.version_info.minor}"}


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


class ParamGrid:
    """Every combination of the values of some parameters (the cartesian product).

    Args:
        grid_tuples: ``(name, values)`` pairs, in order; the first parameter changes slowest. A name can also be a
            tuple of names whose values change together: ``(("serial_mode", "async_rl"), ([True, False], [False,
            True]))`` gives two points, not four.

    Raises:
        ValueError: a pair that is not ``(name, non-empty list of values)``, a tuple of names whose values are not
            tuples of as many values, or a name given twice.
    """

    def __init__(self, grid_tuples: Sequence[tuple[str | tuple[str, ...], Sequence[Any]]]) -> None:
        self.grid: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
        seen: set[str] = set()
        for item in grid_tuples:
            if not (_is_sequence(item) and len(item) == 2):
                raise ValueError(f"ParamGrid takes (name, values) pairs, got {item!r}")
            names, values = item
            names = (names,) if isinstance(names, str) else tuple(names)
            if not names or not all(isinstance(n, str) and n for n in names):
                raise ValueError(f"a ParamGrid name must be a non-empty string or tuple of strings, got {item[0]!r}")
            if not _is_sequence(values) or len(values) == 0:
                raise ValueError(f"the values of {item[0]!r} must be a non-empty list, got {values!r}")
            if len(names) == 1:
                points = [(v,) for v in values]
            else:
                points = []
                for v in values:
                    if not _is_sequence(v) or len(v) != len(names):
                        raise ValueError(f"each value of {names!r} must be a list of {len(names)} values, got {v!r}")
                    points.append(tuple(v))
            for n in names:
                if n in seen:
                    raise ValueError(f"parameter {n!r} appears twice in the ParamGrid")
                seen.add(n)
            self.grid.append((names, points))

    def generate_params(self, randomize: bool = True) -> Iterator[dict[str, Any]]:
        """Yields each combination as a ``{name: value}`` dict.

        Args:
            randomize: shuffle the order (with a fixed seed: the same order every time, so that a re-run of the
                sweep sees the same runs in the same order).
        """
        combos = list(itertools.product(*(points for _, points in self.grid)))
        if randomize:
            random.Random(_STABLE_SEED).shuffle(combos)
        for combo in combos:
            params: dict[str, Any] = {}
            for (names, _), values in zip(self.grid, combo, strict=True):
                params.update(zip(names, values, strict=True))
            yield params

    def __repr__(self) -> str:
        pairs = [(n[0], [p[0] for p in v]) if len(n) == 1 else (n, v) for n, v in self.grid]
        return f"ParamGrid({pairs!r})"


class ParamList:
    """Parameter combinations given one by one: a list of ``{name: value}`` dicts."""

    def __init__(self, combinations: Iterable[Mapping[str, Any]]) -> None:
        self.combinations = [dict(c) for c in combinations]

    def generate_params(self, randomize: bool = True) -> Iterator[dict[str, Any]]:
        """Yields each combination (shuffled with a fixed seed when ``randomize``)."""
        combos = list(self.combinations)
        if randomize:
            random.Random(_STABLE_SEED).shuffle(combos)
        yield from (dict(c) for c in combos)


def seeds(num_seeds: int) -> list[int]:
    """``num_seeds`` distinct seeds for a ``("seed", seeds(n))`` grid entry.

    They look random but are the same on every call: run names include the seed, and a re-run of a sweep must find
    the runs it already has.
    """
    if num_seeds < 0:
        raise ValueError(f"num_seeds must be >= 0, got {num_seeds}")
    return random.Random(_STABLE_SEED).sample(range(1_000_000, 10_000_000), num_seeds)


class Experiment:
    """One command and the parameter combinations it runs with.

    Args:
        name: the experiment's name, the start of each of its runs' names.
        cmd: the command line, as a shell would split it (``shlex``); a leading ``python`` means the interpreter the
            launcher runs under.
        param_generator: ``{name: value}`` dicts, usually ``ParamGrid(...).generate_params(...)``; each is one run.
            Empty: one run with the command as it is.
        env_vars: environment variables set for each run of this experiment.
        num_cpus: CPUs a run asks for (the Ray backend reserves them; default: the launcher's ``cpus_per_run``).
        num_gpus: GPUs a run asks for (Ray; default: the launcher's, from ``num_gpus`` / ``experiments_per_gpu``).
    """

    def __init__(
        self,
        name: str,
        cmd: str,
        param_generator: Iterable[Mapping[str, Any]] = (),
        env_vars: Mapping[str, str] | None = None,
        num_cpus: float | None = None,
        num_gpus: float | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"an Experiment needs a non-empty name, got {name!r}")
        if not isinstance(cmd, str) or not cmd.strip():
            raise ValueError(f"Experiment {name!r} needs a command line, got {cmd!r}")
        self.name = name
        self.cmd = cmd
        self.params = [dict(p) for p in param_generator]
        self.env_vars = {str(k): str(v) for k, v in (env_vars or {}).items()}
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus

    def __repr__(self) -> str:
        return f"Experiment({self.name!r}, {self.cmd!r}, {len(self.params)} parameter combinations)"


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its command line and where it lives.

    Attributes:
        name: the run's experiment name (its directory's name).
        experiment: the :class:`Experiment` it belongs to.
        params: the parameters the grid gave it.
        argv: the command line to execute (``python`` already replaced by the launcher's interpreter).
        run_dir: its experiment directory, ``<train_dir>/<run name>/<name>``.
        env_vars: environment variables to set for it.
        num_cpus: CPUs it asks for (None: the launcher's default).
        num_gpus: GPUs it asks for (None: the launcher's default).
    """

    name: str
    experiment: str
    params: dict[str, Any]
    argv: tuple[str, ...]
    run_dir: Path
    env_vars: dict[str, str]
    num_cpus: float | None = None
    num_gpus: float | None = None

    @property
    def cmd(self) -> str:
        """The command line as one string (for logs and messages)."""
        return shlex.join(self.argv)


def format_value(value: Any) -> str:
    """A parameter value as the command line spells it (``True``, ``0.001``, ``a b`` for lists)."""
    if _is_sequence(value):
        return " ".join(format_value(v) for v in value)
    return str(value)


def param_args(params: Mapping[str, Any], prefix: str = "--") -> list[str]:
    """``--name=value`` for each parameter; a list value becomes ``--name v1 v2`` (separate arguments)."""
    args: list[str] = []
    for name, value in params.items():
        if _is_sequence(value):
            args += [f"{prefix}{name}", *(format_value(v) for v in value)]
        else:
            args.append(f"{prefix}{name}={format_value(value)}")
    return args


def safe_name(text: str) -> str:
    """text with every run of characters other than letters, digits and ``._+-`` replaced by ``-``."""
    return _UNSAFE_CHARS.sub("-", text).strip("-") or "run"


def run_name(experiment: str, params: Mapping[str, Any]) -> str:
    """``<experiment>_<name>_<value>_...``, safe as a directory name, at most :data:`MAX_NAME_LENGTH` characters."""
    parts = [experiment]
    for name, value in params.items():
        shown = "-".join(format_value(v) for v in value) if _is_sequence(value) else format_value(value)
        parts += [name, shown]
    name = safe_name("_".join(parts))
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        name = f"{name[: MAX_NAME_LENGTH - 11]}_{digest}"
    return name


def _command(cmd: str) -> list[str]:
    argv = shlex.split(cmd)
    if argv and argv[0] in _INTERPRETER_NAMES:
        argv[0] = sys.executable
    return argv


class RunDescription:
    """A named set of experiments: the unit that ``python -m sample_factory.launcher.run --run=<module>`` and
    ``sf-cli sweep <module>`` launch.

    Args:
        run_name: the sweep's name; its runs live in ``<train_dir>/<run_name>/``.
        experiments: the :class:`Experiment` objects.
        experiment_arg_name: the option that names a run's experiment.
        experiment_dir_arg_name: the option that names the folder its experiment directory goes in.
        customize_experiment_name: name each run after its parameters (True) or after its experiment and its position
            (``<experiment>_00``, ``<experiment>_01``...; False).
        param_prefix: what goes before each parameter name on the command line.

    Raises:
        ValueError: no experiments, or two runs with the same name.
    """

    def __init__(
        self,
        run_name: str,
        experiments: Sequence[Experiment],
        experiment_arg_name: str = "--experiment",
        experiment_dir_arg_name: str = "--train_dir",
        customize_experiment_name: bool = True,
        param_prefix: str = "--",
    ) -> None:
        if not isinstance(run_name, str) or not run_name.strip():
            raise ValueError(f"a RunDescription needs a non-empty run_name, got {run_name!r}")
        experiments = list(experiments)
        if not experiments or not all(isinstance(e, Experiment) for e in experiments):
            raise ValueError(f"RunDescription {run_name!r} needs a non-empty list of Experiment objects")
        self.run_name = run_name
        self.experiments = experiments
        self.experiment_arg_name = experiment_arg_name
        self.experiment_dir_arg_name = experiment_dir_arg_name
        self.customize_experiment_name = customize_experiment_name
        self.param_prefix = param_prefix
        self.generate_runs(Path("train_dir"))  # names and parameters are checked now, not when the sweep starts

    def generate_runs(self, train_dir: str | Path) -> list[RunSpec]:
        """The runs, in launch order, with their command lines for ``train_dir``.

        Raises:
            ValueError: two runs with the same name, or a grid parameter that is one of the options the launcher
                sets itself (the experiment name and folder).
        """
        sweep_dir = Path(train_dir) / safe_name(self.run_name)
        reserved = {self.experiment_arg_name, self.experiment_dir_arg_name}
        runs: list[RunSpec] = []
        names: dict[str, str] = {}
        for experiment in self.experiments:
            points = experiment.params or [{}]
            for index, params in enumerate(points):
                for key in params:
                    if f"{self.param_prefix}{key}" in reserved:
                        raise ValueError(
                            f"Experiment {experiment.name!r}: {key!r} cannot be a grid parameter, the launcher sets it"
                        )
                if self.customize_experiment_name:
                    name = run_name(experiment.name, params)
                else:
                    name = safe_name(experiment.name if len(points) == 1 else f"{experiment.name}_{index:02d}")
                if name in names:
                    raise ValueError(
                        f"two runs of {self.run_name!r} would be named {name!r} ({names[name]} and {experiment.name} "
                        f"{params}); give the experiments different names or parameters"
                    )
                names[name] = f"{experiment.name} {params}"
                argv = [
                    *_command(experiment.cmd),
                    *param_args(params, self.param_prefix),
                    f"{self.experiment_arg_name}={name}",
                    f"{self.experiment_dir_arg_name}={sweep_dir}",
                ]
                runs.append(
                    RunSpec(
                        name=name,
                        experiment=experiment.name,
                        params=dict(params),
                        argv=tuple(argv),
                        run_dir=sweep_dir / name,
                        env_vars=dict(experiment.env_vars),
                        num_cpus=experiment.num_cpus,
                        num_gpus=experiment.num_gpus,
                    )
                )
        return runs

    def __repr__(self) -> str:
        return f"RunDescription({self.run_name!r}, {len(self.experiments)} experiments)"
