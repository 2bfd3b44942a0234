"""The ``sf-cli`` Click group: the commands, ``--version``, ``--debug`` and shell completion."""

from __future__ import annotations

import click

from sf_cli._bench_cmd import bench_command
from sf_cli._config_cmd import config_command
from sf_cli._enjoy_cmd import enjoy_command
from sf_cli._envs_cmd import envs_command
from sf_cli._hub_cmd import hub_command
from sf_cli._plot_cmd import plot_command
from sf_cli._sweep_cmd import sweep_command
from sf_cli._train_cmd import train_command
from sf_cli._version import __version__


class _OrderedGroup(click.Group):
    """Lists the commands in the order they were added (the order a new user needs them), not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(
    "sf-cli",
    cls=_OrderedGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)
@click.version_option(__version__, "-V", "--version", prog_name="sf-cli", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Print the full traceback of an error (also accepted by each command).")
def cli(debug: bool) -> None:
    """sf: asynchronous PPO (APPO) at high throughput. Train, evaluate, inspect and plot.

    \b
    Start with:
      sf-cli train                       # trains CartPole-v1 into train_dir/CartPole-v1
      sf-cli enjoy --experiment CartPole-v1 --max_num_episodes 5
      sf-cli plot CartPole-v1            # writes train_dir/CartPole-v1/plot.png

    Exit status: 0 success, 1 failure, 2 usage error or interrupted.

    Shell completion: eval "$(_SF_CLI_COMPLETE=bash_source sf-cli)" (zsh_source, fish_source for other shells).
    """


for _command in (train_command, enjoy_command, envs_command, config_command, plot_command, bench_command, hub_command):
    cli.add_command(_command)
cli.add_command(sweep_command)
