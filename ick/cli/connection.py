"""The daemon an `ick` call talks to: `--url` and `--token` as given, else the environment
(through ick.config_cli), and the client for them; the exit codes; printing a line or JSON;
failing with one line.

Without click, so that the commands ick.cli.hot runs do not load it.
Exit status: 0 success, 1 the build failed, 2 usage or input errors, 3 cannot reach the daemon.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_UNREACHABLE = 3

DEFAULT_URL = "http://127.0.0.1:4250"


class Context:
    """`--url` and `--token` as given (else ICK_URL and ICK_TOKEN, through ick.config_cli)."""

    def __init__(self, url: str | None, token: str | None) -> None:
        self._url = url
        self._token = token
        self._client: Any = None

    @property
    def url(self) -> str:
        if self._url is None:
            from ick.config_cli import client_environment

            self._url = client_environment().url or DEFAULT_URL
        return self._url

    @property
    def token(self) -> str | None:
        if self._token is None:
            from ick.config_cli import client_environment

            self._token = client_environment().token
        return self._token

    @property
    def client(self) -> Any:
        if self._client is None:
            from ick.cli.client import Client, default_token, missing_token_message
            from ick.config_cli import client_environment

            state_dir = client_environment().state_dir
            self._client = Client(self.url, self.token or default_token(state_dir),
                                  no_token_message=missing_token_message(state_dir))
        return self._client


def say(text: str, err: bool = False) -> None:
    """One line out, flushed at once as click.echo does (a closed pipe shows up here)."""
    out = sys.stderr if err else sys.stdout
    out.write(f"{text}\n")
    out.flush()


def print_json(doc: Any) -> None:
    import json

    say(json.dumps(doc, indent=2, sort_keys=False))


def fail_plainly(message: str, code: int = EXIT_INPUT) -> NoReturn:
    say(f"ick: error: {message}", err=True)
    sys.exit(code)
