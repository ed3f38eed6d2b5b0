"""The daemon's own process image: `ick serve` checks its settings, then execs this.

The daemon needs none of the command-line tool (click, the client, the other commands);
starting afresh keeps them out of its memory for as long as it runs. Usage (internal):
`python -m ick.daemon SETTINGS_JSON [--verbose]`.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from ick.config import settings_from_json
from ick.daemon.serve import serve


def ready(url: str) -> None:
    # One line on stdout that scripts (and tests started on port 0) can wait for.
    print(f"ick: listening on {url}", flush=True)


def main(argv: list[str]) -> int:
    settings = settings_from_json(argv[0])
    logging.basicConfig(
        level=logging.DEBUG if "--verbose" in argv[1:] else logging.INFO, stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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
