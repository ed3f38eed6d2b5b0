"""The `ick` command group: shared options, error handling and exit codes.

Exit status: 0 success, 1 the build failed, 2 usage or input errors, 3 cannot reach the daemon.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from ick import __version__
from ick.errors import ClientError, IckError

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_UNREACHABLE = 3

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        self.token = token
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from ick.cli.client import Client, default_token, missing_token_message

            self._client = Client(self.url, self.token or default_token(os.environ),
                                  no_token_message=missing_token_message(os.environ))
        return self._client


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    click.echo(f"ick: error: {message}", err=True)
    sys.exit(code)


def print_json(doc: Any) -> None:
    import json

    click.echo(json.dumps(doc, indent=2, sort_keys=False))


def echo_table(rows: list[list[str]], right: tuple[int, ...] = ()) -> None:
    """Rows under a header, in columns as wide as their widest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        click.echo("  ".join(cells).rstrip())


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(f)


pass_ctx = click.make_pass_decorator(Context)


class LazyGroup(click.Group):
    """A group whose subcommands' modules are imported when a subcommand is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from ick.cli.commands import COMMANDS

        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from ick.cli.commands import COMMANDS

        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="ICK_URL", default="http://127.0.0.1:4250", show_default=True,
              help="The daemon's address (ICK_URL).")
@click.option("--token", envvar="ICK_TOKEN", default=None,
              help="API token (ICK_TOKEN); default: the local daemon's admin.token.")
# The version as a string: looking it up in the package metadata costs more than all of click.
@click.version_option(version=__version__, prog_name="ick")
@click.pass_context
def cli(ctx: click.Context, url: str, token: str | None) -> None:
    """ick: continuous integration and delivery, fun and easy."""
    ctx.obj = Context(url, token)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted")
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except ClientError as e:
        fail(e.message, EXIT_UNREACHABLE)
    except IckError as e:
        fail(e.message, EXIT_INPUT)
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # never a traceback: one line, and 3 when the daemon went away
        fail(*_unexpected(e))


def _unexpected(e: Exception) -> tuple[str, int]:
    import http.client

    if isinstance(e, http.client.HTTPException | ConnectionError | TimeoutError):
        return f"lost the connection to the daemon: {type(e).__name__}", EXIT_UNREACHABLE
    if isinstance(e, OSError):
        return f"{e.filename or type(e).__name__}: {e.strerror or e}", EXIT_INPUT
    return f"unexpected {type(e).__name__}: {e}", EXIT_INPUT
