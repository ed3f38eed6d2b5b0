"""`ick serve`: run the daemon in the foreground, as its own process (`python -I -m ick.daemon`)."""

from __future__ import annotations

import os
import sys

import click


@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Daemon settings file (ick.yaml).")
@click.option("--listen", default=None, help="HOST:PORT to listen on [127.0.0.1:4250].")
@click.option("--state-dir", default=None, help="State directory [~/.local/share/ick].")
@click.option("--workers", type=int, default=None, help="Local build slots [CPU count].")
@click.option("--public-url", default=None, help="The URL people reach this daemon at.")
@click.option("--debian-mirror", default=None, help="Mirror for debootstrap and apt.")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages too.")
def serve(config_path: str | None, listen: str | None, state_dir: str | None,
          workers: int | None, public_url: str | None, debian_mirror: str | None,
          verbose: bool) -> None:
    """Run the ick daemon: API, scheduler and local workers."""
    argv = [sys.executable, "-I", "-m", "ick.daemon"]
    for flag, value in (("--config", config_path), ("--listen", listen),
                        ("--state-dir", state_dir), ("--workers", workers),
                        ("--public-url", public_url), ("--debian-mirror", debian_mirror)):
        if value is not None:
            argv.append(f"{flag}={value}")  # one word: a value may start with "-"
    if verbose:
        argv.append("--verbose")
    sys.stdout.flush()
    sys.stderr.flush()
    # Same process id, a fresh image without the command-line tool in memory; the daemon
    # checks its settings itself.
    os.execv(sys.executable, argv)
