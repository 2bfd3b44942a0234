"""``sf-cli plot``: summaries of one or more experiments against env steps and wall time, as a PNG.

The runtime writes TensorBoard event files under ``train_dir/<experiment>/.summary/<policy>/``; they are read with
TensorBoard's ``EventAccumulator``. Matplotlib is an optional extra (``pip install 'sf-cli[plot]'``).
"""

from __future__ import annotations

import dataclasses
import difflib
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


def render_png(series: list[Series], summaries: list[str], out: Path, title: str | None = None) -> Path:
    """Draws one row per summary, against env steps (left) and wall time (right), runs overlaid; writes a PNG."""
    plt = _pyplot()
    tags = list(dict.fromkeys(s.tag for s in series))
    fig, axes = plt.subplots(len(tags), 2, figsize=(12, 3.6 * len(tags)), squeeze=False)
    for row, tag in enumerate(tags):
        ax_steps, ax_time = axes[row]
        for s in (s for s in series if s.tag == tag):
            ax_steps.plot(s.steps, s.values, label=s.label, marker="." if len(s.steps) < 20 else None)
            minutes = [t / 60.0 for t in s.seconds]
            ax_time.plot(minutes, s.values, label=s.label, marker="." if len(s.steps) < 20 else None)
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
    return out


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
@click.option("--title", help="Title of the figure.")
@click.option("--debug", is_flag=True, help="Print the full traceback of an error.")
@reports_errors
def plot_command(
    experiments: tuple[str, ...],
    summaries: tuple[str, ...],
    train_dir: Path,
    policy: int,
    out: Path | None,
    title: str | None,
    **_: Any,
) -> None:
    """Plot the summaries of one or more experiments (overlaid) against env steps and against wall time.

    EXPERIMENT is a name under --train_dir or the path of an experiment folder.

    \b
    Examples:
      sf-cli plot cartpole
      sf-cli plot cartpole cartpole_lr3e-4 -s reward -s fps -o compare.png
    """
    _pyplot()  # a missing optional extra is reported before any work
    names = list(summaries) or [DEFAULT_SUMMARY]
    series = collect_series(list(experiments), names, train_dir, policy)
    if out is None:
        single = summary_dir(experiments[0], train_dir, policy).parent.parent
        out = single / "plot.png" if len(experiments) == 1 else Path("plot.png")
    render_png(series, names, out, title)
    click.echo(str(out))
