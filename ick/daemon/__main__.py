"""The daemon's own process: `python -I -m ick.daemon [--config ick.yaml] [flags]`, which the
systemd unit runs and `ick serve` execs. It loads its settings itself (ick.config), takes the
state directory's lock, then serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from ick.config import Settings, load_settings
from ick.daemon.lock import StateInUseError, lock_state_dir
from ick.daemon.serve import serve
from ick.errors import IckError

EXIT_INPUT = 2  # as the `ick` command's: usage or input errors


def parser() -> argparse.ArgumentParser:
    """The same flags as `ick serve`, which passes its own on."""
    p = argparse.ArgumentParser(prog="python -I -m ick.daemon",
                                description="Run the ick daemon: API, scheduler and local workers.")
    p.add_argument("--config", metavar="FILE", help="Daemon settings file (ick.yaml).")
    p.add_argument("--listen", metavar="HOST:PORT", help="Where to listen [127.0.0.1:4250].")
    p.add_argument("--state-dir", metavar="DIR", help="State directory [~/.local/share/ick].")
    p.add_argument("--workers", type=int, metavar="N", help="Local build slots [CPU count].")
    p.add_argument("--public-url", metavar="URL", help="The URL people reach this daemon at.")
    p.add_argument("--debian-mirror", metavar="URL", help="Mirror for debootstrap and apt.")
    p.add_argument("-v", "--verbose", action="store_true", help="Log debug messages too.")
    return p


def settings_of(args: argparse.Namespace) -> Settings:
    """ick.yaml, then the environment, then the flags (ick.config)."""
    return load_settings(args.config, overrides={
        "listen": args.listen, "state_dir": args.state_dir, "workers": args.workers,
        "public_url": args.public_url, "debian_mirror": args.debian_mirror,
    })


def ready(url: str) -> None:
    # One line on stdout that scripts (and tests started on port 0) can wait for.
    print(f"ick: listening on {url}", flush=True)


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        settings = settings_of(args)
    except IckError as e:
        print(f"ick: error: {e.message}", file=sys.stderr)
        return EXIT_INPUT
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
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
