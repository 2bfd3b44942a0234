"""``sf-cli plot``: summaries of one or more experiments against env steps and wall time, as a PNG (and a CSV).

The runtime writes TensorBoard event files under ``train_dir/<experiment>/.summary/<policy>/``; they are read with
TensorBoard's ``EventAccumulator``. Matplotlib is an optional extra (``pip install 'sf-cli[plot]'``).

Runs are grouped (all runs in one group, or one group per EXPERIMENT argument with ``--groups``); a group of several
runs is drawn as its mean with a shaded spread (min-max or +/- one std), interpolated onto common env-step points
where all its runs have data, over each run's own thin curve.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import glob
from pathlib import Path
from typing import Any

import click

from sf_cli._errors import BadInput, Failure, reports_errors

SUMMARY_DIR = ".summary"
DEFAULT_SUMMARY = "episode/reward"


@dataclasses.dataclass(frozen=True)
class Series:
    """One scalar summary of one run: ``steps[i]`` env steps and ``seconds[i]`` seconds after its first point."""

    label: str
    tag: str
    steps: list[int]
    seconds: list[float]
    values: list[float]


def summary_dir(experiment: str, train_dir: Path, policy: int) -> Path:
    """The summary folder of a policy of an experiment, named by name (under ``train_dir``) or by path.

    Raises:
        BadInput: When there is no such experiment (listing the closest names) or it has no summaries.
    """
    candidates = [train_dir / experiment, Path(experiment)]
    for directory in candidates:
        if (directory / SUMMARY_DIR).is_dir():
            path = directory / SUMMARY_DIR / str(policy)
            if not path.is_dir():
                policies = sorted(p.name for p in (directory / SUMMARY_DIR).iterdir() if p.is_dir())
                raise BadInput(
                    f"{directory} has no summaries of policy {policy} (it has policies {', '.join(policies)})"
                )
            return path
    known = sorted(p.name for p in train_dir.iterdir() if (p / SUMMARY_DIR).is_dir()) if train_dir.is_dir() else []
    close = difflib.get_close_matches(experiment, known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    listing = f" (experiments with summaries there: {', '.join(known[:10])})" if known and not close else ""
    raise BadInput(f"no experiment {experiment!r} with summaries in {train_dir}{hint}{listing}")


def load_scalars(path: Path) -> dict[str, list[tuple[int, float, float]]]:
    """Every scalar summary in a folder of event files: tag -> [(step, wall_time, value)] sorted by wall time."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0})
    accumulator.Reload()
    result = {}
    for tag in accumulator.Tags().get("scalars", []):
        events = sorted(accumulator.Scalars(tag), key=lambda e: e.wall_time)
        result[tag] = [(int(e.step), float(e.wall_time), float(e.value)) for e in events]
    return result


def resolve_tag(name: str, tags: list[str]) -> str | None:
    """The tag a user means by ``name``: the tag itself, or the one tag whose last part is ``name`` (``reward`` ->
    ``episode/reward``); None when neither."""
    if name in tags:
        return name
    matches = [t for t in tags if t.rsplit("/", 1)[-1] == name]
    return matches[0] if len(matches) == 1 else None


def collect_series(experiments: list[str], summaries: list[str], train_dir: Path, policy: int) -> list[Series]:
    """The series to plot: each summary of each experiment.

    Raises:
        BadInput: Unknown experiment, or a summary none of the experiments has (listing the ones they have).
    """
    series = []
    for experiment in experiments:
        scalars = load_scalars(summary_dir(experiment, train_dir, policy))
        tags = sorted(scalars)
        for name in summaries:
            tag = resolve_tag(name, tags)
            if tag is None:
                short = sorted({t.rsplit("/", 1)[-1] for t in tags} | set(tags))
                close = difflib.get_close_matches(name, short, n=3, cutoff=0.6)
                hint = f"; did you mean {' or '.join(close)}?" if close else ""
                available = (
                    ", ".join(tags)
                    if tags
                    else "none yet (summaries are written every experiment_summaries_interval seconds)"
                )
                raise BadInput(f"experiment {experiment!r} has no summary {name!r}{hint} (it has: {available})")
            points = scalars[tag]
            t0 = points[0][1] if points else 0.0
            series.append(
                Series(
                    label=experiment,
                    tag=tag,
                    steps=[p[0] for p in points],
                    seconds=[p[1] - t0 for p in points],
                    values=[p[2] for p in points],
                )
            )
    return series


@dataclasses.dataclass(frozen=True)
class Aggregate:
    """The mean and spread of a group's runs of one summary on common env-step points."""

    label: str
    tag: str
    runs: int
    steps: list[float]
    mean: list[float]
    low: list[float]
    high: list[float]


SPREADS = ("minmax", "std", "none")
GRID_POINTS = 200


def expand_experiments(patterns: list[str], train_dir: Path) -> list[list[str]]:
    """Each EXPERIMENT argument as the experiments it names: itself, or the matches of a glob (``'seed*'``), sorted;
    a glob is matched under ``train_dir`` and as a path.

    Raises:
        BadInput: A glob that matches no experiment with summaries.
    """
    groups = []
    for pattern in patterns:
        if not glob.has_magic(pattern):
            groups.append([pattern])
            continue
        matches = sorted({p.name for p in train_dir.glob(pattern) if (p / SUMMARY_DIR).is_dir()})
        if not matches:
            paths = sorted(p for p in glob.glob(pattern) if (Path(p) / SUMMARY_DIR).is_dir())
            matches = paths
        if not matches:
            raise BadInput(f"no experiment with summaries matches {pattern!r} in {train_dir}")
        groups.append(matches)
    return groups


def aggregate(series: list[Series], label: str, spread: str, points: int = GRID_POINTS) -> Aggregate | None:
    """Mean and spread of several runs of one summary, linearly interpolated onto ``points`` env-step points
    spanning the range every run covers; None for fewer than two runs or no common range."""
    import numpy as np

    runs = [s for s in series if s.steps]
    if len(runs) < 2:
        return None
    lo = max(s.steps[0] for s in runs)
    hi = min(s.steps[-1] for s in runs)
    if hi <= lo:
        return None
    grid = np.linspace(lo, hi, points)
    values = np.stack([np.interp(grid, _unique_steps(s)[0], _unique_steps(s)[1]) for s in runs])
    mean = values.mean(axis=0)
    if spread == "std":
        std = values.std(axis=0)
        low, high = mean - std, mean + std
    else:
        low, high = values.min(axis=0), values.max(axis=0)
    return Aggregate(label, runs[0].tag, len(runs), grid.tolist(), mean.tolist(), low.tolist(), high.tolist())


def _unique_steps(s: Series) -> tuple[list[float], list[float]]:
    """A run's points ordered by env steps, one value per step (the last written), for interpolation."""
    by_step: dict[int, float] = {}
    for step, value in zip(s.steps, s.values, strict=True):
        by_step[step] = value
    steps = sorted(by_step)
    return [float(x) for x in steps], [by_step[x] for x in steps]


def group_label(names: list[str]) -> str:
    """A group's name in the legend: its one run, or the runs' common prefix with ``*`` (``cartpole_seed*``)."""
    if len(names) == 1:
        return names[0]
    import os.path

    prefix = os.path.commonprefix([Path(n).name for n in names]).rstrip("_-")  # noqa: RUF071 (names, not paths)
    return f"{prefix}*" if prefix else "+".join(Path(n).name for n in names)


def write_csv(series: list[Series], aggregates: list[Aggregate], out: Path, spread: str) -> Path:
    """Writes what is plotted: one row per point of each run (``stat=value``), then the groups' mean and spread rows
    (``stat`` mean, and min/max or mean-std/mean+std) on their common env-step points."""
    out.parent.mkdir(parents=True, exist_ok=True)
    low_name, high_name = ("min", "max") if spread != "std" else ("mean-std", "mean+std")
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["summary", "experiment", "stat", "env_steps", "wall_seconds", "value"])
        for s in series:
            for step, seconds, value in zip(s.steps, s.seconds, s.values, strict=True):
                writer.writerow([s.tag, s.label, "value", step, f"{seconds:.3f}", repr(value)])
        for a in aggregates:
            stats = [("mean", a.mean)]
            if spread != "none":
                stats += [(low_name, a.low), (high_name, a.high)]
            for stat, values in stats:
                for step, value in zip(a.steps, values, strict=True):
                    writer.writerow([a.tag, a.label, stat, f"{step:.1f}", "", repr(value)])
    return out


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise Failure(
            "sf-cli plot needs matplotlib, an optional extra: pip install 'sf-cli[plot]' (or pip install matplotlib)"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def render_png(
    series: list[Series],
    groups: list[tuple[str, list[str]]],
    out: Path,
    title: str | None = None,
    spread: str = "minmax",
) -> tuple[Path, list[Aggregate]]:
    """Draws one row per summary, against env steps (left) and wall time (right); writes a PNG.

    ``groups`` are (label, run labels). A group of several runs gets its mean (thick) and spread (shaded) against env
    steps over each run's own thin curve; runs are drawn alone otherwise. Returns the PNG and the aggregates drawn.
    """
    plt = _pyplot()
    tags = list(dict.fromkeys(s.tag for s in series))
    fig, axes = plt.subplots(len(tags), 2, figsize=(12, 3.8 * len(tags)), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    single_group = len(groups) == 1
    aggregates: list[Aggregate] = []
    spread_text = {"minmax": "min-max", "std": "\u00b1 1 std"}.get(spread)
    for row, tag in enumerate(tags):
        ax_steps, ax_time = axes[row]
        run_index = 0
        for gi, (label, names) in enumerate(groups):
            runs = [s for s in series if s.tag == tag and s.label in names]
            grouped = len(runs) > 1
            agg = aggregate(runs, label, spread) if grouped else None
            for s in runs:
                # one group: every run its own colour (named in the legend); several groups: the group's colour
                color = colors[run_index % len(colors)] if single_group else colors[gi % len(colors)]
                run_index += 1
                marker = "." if len(s.steps) < 20 else None
                width, alpha = (0.9, 0.55) if grouped else (1.6, 1.0)
                name = s.label if single_group or not grouped else None
                ax_steps.plot(s.steps, s.values, color=color, lw=width, alpha=alpha, marker=marker, ms=3, label=name)
                minutes = [t / 60.0 for t in s.seconds]
                ax_time.plot(minutes, s.values, color=color, lw=width, alpha=alpha, marker=marker, ms=3, label=name)
            if agg is None:
                continue
            aggregates.append(agg)
            color = "black" if single_group else colors[gi % len(colors)]
            ax_steps.plot(agg.steps, agg.mean, color=color, lw=2.4, label=f"{label}: mean of {agg.runs} runs")
            if spread != "none":
                ax_steps.fill_between(
                    agg.steps,
                    agg.low,
                    agg.high,
                    color="gray" if single_group else color,
                    alpha=0.25,
                    lw=0,
                    label=f"{label}: {spread_text}",
                )
        for ax, xlabel in ((ax_steps, "env steps"), (ax_time, "wall time (minutes)")):
            ax.set_xlabel(xlabel)
            ax.set_ylabel(tag)
            ax.grid(alpha=0.3)
        ax_steps.legend(loc="best", fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    return out, aggregates


@click.command("plot", short_help="Plot reward (and other summaries) of experiments to a PNG.")
@click.argument("experiments", nargs=-1, required=True, metavar="EXPERIMENT...")
@click.option(
    "-s",
    "--summary",
    "summaries",
    multiple=True,
    metavar="NAME",
    help=f"A summary to plot: a TensorBoard tag or its last part (reward, fps, loss, ...). Repeatable. "
    f"[default: {DEFAULT_SUMMARY}]",
)
@click.option(
    "--train_dir",
    "--train-dir",
    "train_dir",
    default="train_dir",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the experiments.",
)
@click.option("--policy", default=0, show_default=True, type=click.IntRange(min=0), help="Policy index to plot.")
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PNG to write. [default: plot.png in the single experiment's folder, else plot.png in the cwd]",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write what is plotted as CSV: summary, experiment, stat, env_steps, wall_seconds, value (stat is "
    "'value' for each run's points, and mean/min/max or mean/mean-std/mean+std for a group's rows).",
)
@click.option(
    "--spread",
    type=click.Choice(SPREADS),
    default="minmax",
    show_default=True,
    help="The shaded band around a group's mean: min-max of its runs, +/- one standard deviation, or none.",
)
@click.option(
    "--groups",
    "separate_groups",
    is_flag=True,
    help="Each EXPERIMENT argument (a glob with all its matches) is its own group with its own mean and spread, "
    "instead of one group of every run.",
)
@click.option("--title", help="Title of the figure.")
@click.option("--debug", is_flag=True, help="Print the full traceback of an error.")
@reports_errors
def plot_command(
    experiments: tuple[str, ...],
    summaries: tuple[str, ...],
    train_dir: Path,
    policy: int,
    out: Path | None,
    csv_path: Path | None,
    spread: str,
    separate_groups: bool,
    title: str | None,
    **_: Any,
) -> None:
    """Plot the summaries of one or more experiments against env steps and against wall time.

    EXPERIMENT is a name under --train_dir, the path of an experiment folder, or a glob of them (quoted:
    'cartpole_seed*'). Several runs are overlaid, each as a thin curve, with their mean (thick) and spread (shaded,
    see --spread) interpolated onto common env-step points; --groups makes one group per EXPERIMENT argument.

    \b
    Examples:
      sf-cli plot cartpole
      sf-cli plot 'cartpole_seed*' --csv seeds.csv
      sf-cli plot --groups 'lr1e-3_seed*' 'lr3e-4_seed*' -s reward -s fps -o compare.png
    """
    _pyplot()  # a missing optional extra is reported before any work
    names = list(summaries) or [DEFAULT_SUMMARY]
    expanded = expand_experiments(list(experiments), train_dir)
    runs = list(dict.fromkeys(name for group in expanded for name in group))
    series = collect_series(runs, names, train_dir, policy)
    if separate_groups:
        groups = [(pattern, group) for pattern, group in zip(experiments, expanded, strict=True)]
    else:
        groups = [(experiments[0] if len(experiments) == 1 else group_label(runs), runs)]
    if out is None:
        single = summary_dir(runs[0], train_dir, policy).parent.parent
        out = single / "plot.png" if len(runs) == 1 else Path("plot.png")
    out, aggregates = render_png(series, groups, out, title, spread)
    click.echo(str(out))
    if csv_path is not None:
        click.echo(str(write_csv(series, aggregates, csv_path, spread)))
