"""What every click `ick` subcommand shares: the context (ick.cli.connection: daemon address,
token, client, exit codes), failing with one line, printing JSON and tables, the --json option.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from ick.cli.connection import DEFAULT_URL as DEFAULT_URL
from ick.cli.connection import EXIT_FAILED as EXIT_FAILED
from ick.cli.connection import EXIT_INPUT as EXIT_INPUT
from ick.cli.connection import EXIT_UNREACHABLE as EXIT_UNREACHABLE
from ick.cli.connection import Context as Context
from ick.cli.connection import print_json as print_json

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    click.echo(f"ick: error: {message}", err=True)
    sys.exit(code)


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
