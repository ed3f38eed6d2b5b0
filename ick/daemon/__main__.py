"""The daemon's own process image: `ick serve` checks its settings, then execs this.

The daemon needs none of the command-line tool (click, the client, the other commands);
starting afresh keeps them out of its memory for as long as it runs. Usage (internal):
`python -m ick.daemon SETTINGS_JSON [--verbose] [--restore-env=JSON]`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys

from ick.config import settings_from_json
from ick.daemon.lock import StateInUseError, lock_state_dir
from ick.daemon.serve import serve


def ready(url: str) -> None:
    # One line on stdout that scripts (and tests started on port 0) can wait for.
    print(f"ick: listening on {url}", flush=True)


def restore_env(argv: list[str]) -> None:
    """Give the variables `ick serve` set for the daemon's imports only (see ick.cli.serve)
    the values they had there: `--restore-env={"NAME": "value" or null for unset, ...}`."""
    for arg in argv:
        if arg.startswith("--restore-env="):
            for name, value in json.loads(arg.removeprefix("--restore-env=")).items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def main(argv: list[str]) -> int:
    restore_env(argv[1:])  # first: the imports above are done, and the daemon starts nothing yet
    settings = settings_from_json(argv[0])
    logging.basicConfig(
        level=logging.DEBUG if "--verbose" in argv[1:] else logging.INFO, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        lock_state_dir(settings.state_dir)  # before anything else reads or changes the state
    except StateInUseError as e:
        print(f"ick: {e.message}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"ick: error: cannot lock {settings.state_dir}: {e.strerror or e}", file=sys.stderr)
        return 1
    failures: list[str] = []
    try:
        asyncio.run(serve(settings, ready))
    except* OSError as group:  # task groups wrap what start-up raises
        failures += [str(e) for e in group.exceptions]
    except* KeyboardInterrupt:
        pass
    for failure in failures:
        print(f"ick: error: cannot start: {failure}", file=sys.stderr)
    return 2 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
