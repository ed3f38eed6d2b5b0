"""The click `ick` command group: its options, and the subcommands it loads (ick.cli.commands)."""

from __future__ import annotations

import click

from ick import __version__
from ick.cli.context import DEFAULT_URL, Context


class LazyGroup(click.Group):
    """A group whose subcommands' modules are imported when a subcommand is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from ick.cli.commands import COMMANDS

        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from ick.cli.commands import COMMANDS

        load = COMMANDS.get(cmd_name)
        return load()[cmd_name] if load is not None else None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", default=DEFAULT_URL, show_default=True,
              help="The daemon's address (ICK_URL).")
@click.option("--token", default=None,
              help="API token (ICK_TOKEN); default: the local daemon's admin.token.")
# The version as a string: looking it up in the package metadata costs more than all of click.
@click.version_option(version=__version__, prog_name="ick")
@click.pass_context
def cli(ctx: click.Context, url: str, token: str | None) -> None:
    """ick: continuous integration and delivery, fun and easy."""
    given = ctx.get_parameter_source("url") is not click.core.ParameterSource.DEFAULT
    ctx.obj = Context(url if given else None, token)  # else ICK_URL, else the default
