"""``sf-cli hub push`` and ``sf-cli hub pull``: move an experiment to and from the Hugging Face Hub as it is.

Evaluating and uploading in one go is ``sf-cli enjoy --push_to_hub --hf_repository USER/NAME``. Both need the
``huggingface`` extra (``pip install 'sf-cli[huggingface]'``); the runtime's :mod:`sf_runtime.integrations.hub` does
the work.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click

from sf_cli._errors import BadInput, Failure, reports_errors
from sf_config import load_saved_config

_REPO_HELP = "The Hugging Face Hub repository, as <user>/<name>."


def _hub_call(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Runs a hub function; its usage errors exit with 2, its other failures with 1, each as one line."""
    from sf_runtime.integrations.hub import HubError, HubUsageError

    try:
        return func(*args, **kwargs)
    except HubUsageError as exc:
        raise BadInput(str(exc)) from None
    except HubError as exc:
        raise Failure(str(exc)) from None


@click.group("hub", short_help="Push an experiment to the Hugging Face Hub, or pull one.")
def hub_command() -> None:
    """Move experiments to and from the Hugging Face Hub (needs: pip install 'sf-cli[huggingface]').

    The token (`hf auth login` or HF_TOKEN) and the endpoint (HF_ENDPOINT) are huggingface_hub's.
    To evaluate, write a model card with the mean reward and upload, in one go:
    sf-cli enjoy --experiment NAME --push_to_hub --hf_repository USER/NAME [--save_video].
    """


@hub_command.command("push")
@click.option("--experiment", required=True, help="The experiment to upload (a folder under --train_dir).")
@click.option("--train_dir", default="train_dir", show_default=True, help="Root folder of the experiments.")
@click.option("--hf_repository", required=True, metavar="USER/NAME", help=_REPO_HELP)
@click.option("--debug", is_flag=True, help="Print the full traceback of an error.")
@reports_errors
def push_command(experiment: str, train_dir: str, hf_repository: str, **_: Any) -> None:
    """Upload an experiment folder (config, checkpoints, summaries) without evaluating it.

    A model card README.md for this repository is written first, without evaluation results (to publish the mean
    reward, evaluate and upload with: sf-cli enjoy --push_to_hub --hf_repository USER/NAME).

    \b
    Example:
      sf-cli hub push --experiment cartpole --hf_repository me/sf-cartpole

    Exit status: 0 success, 1 failure (e.g. no token, upload refused), 2 bad input.
    """
    from sf_runtime.integrations.hub import push_experiment

    url = _hub_call(push_experiment, train_dir, experiment, hf_repository)
    click.echo(f"Uploaded {Path(train_dir) / experiment} to {url}")


@hub_command.command("pull")
@click.option("--hf_repository", required=True, metavar="USER/NAME", help=_REPO_HELP)
@click.option("--train_dir", default="train_dir", show_default=True, help="Root folder of the experiments.")
@click.option("--experiment", default=None, help="The experiment's folder name.  [default: the repository's name]")
@click.option("--debug", is_flag=True, help="Print the full traceback of an error.")
@reports_errors
def pull_command(hf_repository: str, train_dir: str, experiment: str | None, **_: Any) -> None:
    """Download an experiment into --train_dir, ready to evaluate (sf-cli enjoy) or resume (sf-cli train).

    \b
    Example:
      sf-cli hub pull --hf_repository me/sf-cartpole
      sf-cli enjoy --experiment sf-cartpole

    Exit status: 0 success, 1 failure (e.g. no such repository), 2 bad input (e.g. the folder exists).
    """
    from sf_runtime.integrations.hub import pull_experiment

    exp_dir = _hub_call(pull_experiment, hf_repository, train_dir, experiment)
    name = exp_dir.name
    extra = "" if train_dir == "train_dir" else f" --train_dir {train_dir}"
    env = (load_saved_config(SimpleNamespace(train_dir=exp_dir.parent, experiment=name)) or {}).get("env")
    env_arg = f" --env {env}" if env else ""
    click.echo(f"Downloaded {hf_repository} to {exp_dir}")
    click.echo(f"  evaluate: sf-cli enjoy --experiment {name}{extra}")
    click.echo(
        f"  resume:   sf-cli train{env_arg} --experiment {name}{extra} --train_for_env_steps N (N above its steps)"
    )
