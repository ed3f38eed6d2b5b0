"""What every `ick` subcommand shares: the context (daemon address, token, client), exit codes,
failing with one line, printing JSON and tables.

Exit status: 0 success, 1 the build failed, 2 usage or input errors, 3 cannot reach the daemon.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_UNREACHABLE = 3

DEFAULT_URL = "http://127.0.0.1:4250"

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """`--url` and `--token` as given (else ICK_URL and ICK_TOKEN, through ick.config)."""

    def __init__(self, url: str | None, token: str | None) -> None:
        self._url = url
        self._token = token
        self._client: Any = None

    @property
    def url(self) -> str:
        if self._url is None:
            from ick.config import client_environment

            self._url = client_environment().url or DEFAULT_URL
        return self._url

    @property
    def token(self) -> str | None:
        if self._token is None:
            from ick.config import client_environment

            self._token = client_environment().token
        return self._token

    @property
    def client(self) -> Any:
        if self._client is None:
            from ick.cli.client import Client, default_token, missing_token_message
            from ick.config import client_environment

            state_dir = client_environment().state_dir
            self._client = Client(self.url, self.token or default_token(state_dir),
                                  no_token_message=missing_token_message(state_dir))
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
