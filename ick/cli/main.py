"""The `ick` command: the hot commands without click (ick.cli.hot), every other through the
click group (ick.cli.group); error handling and exit codes (ick.cli.connection).
"""

from __future__ import annotations

import sys

from ick.cli.connection import EXIT_INPUT, EXIT_UNREACHABLE, fail_plainly
from ick.cli.hot import parse
from ick.errors import ClientError, IckError


def main() -> None:
    try:
        command = parse(sys.argv[1:])
        if command is not None:
            command()
        else:
            _click_main()
    except ClientError as e:
        fail_plainly(e.message, EXIT_UNREACHABLE)
    except IckError as e:
        fail_plainly(e.message, EXIT_INPUT)
    except BrokenPipeError:
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as e:  # never a traceback: one line, and 3 when the daemon went away
        fail_plainly(*_unexpected(e))


def _click_main() -> None:
    import click

    from ick.cli.context import fail
    from ick.cli.group import cli

    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted")
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)


def _unexpected(e: Exception) -> tuple[str, int]:
    import http.client

    if isinstance(e, http.client.HTTPException | ConnectionError | TimeoutError):
        return f"lost the connection to the daemon: {type(e).__name__}", EXIT_UNREACHABLE
    if isinstance(e, OSError):
        return f"{e.filename or type(e).__name__}: {e.strerror or e}", EXIT_INPUT
    return f"unexpected {type(e).__name__}: {e}", EXIT_INPUT
