"""`ick serve`: run the daemon in the foreground."""

from __future__ import annotations

import json
import os
import sys

import click

from ick.cli.main import cli, fail

# Set for the daemon's imports only: its first step gives these back the values they had here
# (or unsets them), so nothing it runs or connects to later sees ick's. Measured on Debian's
# python3 3.11 (bench/builds.py, idle RSS): importing aiohttp builds two default TLS contexts
# that load the whole CA bundle (about 2 MB; ick makes its own context when it first needs
# one, after the restore); frozenlist's C++ extension maps libstdc++ (about 1 MB), and its
# pure-Python twin does as well for the few lists the daemon keeps.
LEAN_IMPORTS = {
    "SSL_CERT_FILE": "/nonexistent/ick-no-ca-bundle-at-import",
    "FROZENLIST_NO_EXTENSIONS": "1",
}


@cli.command()
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
    from ick.config import load_settings, settings_to_json
    from ick.errors import IckError

    try:
        settings = load_settings(config_path, os.environ, {
            "listen": listen, "state_dir": state_dir, "workers": workers,
            "public_url": public_url, "debian_mirror": debian_mirror,
        })
    except IckError as e:
        fail(e.message)
    argv = [sys.executable, "-m", "ick.daemon", settings_to_json(settings)]
    if verbose:
        argv.append("--verbose")
    saved = {name: os.environ.get(name) for name in LEAN_IMPORTS}
    argv.append("--restore-env=" + json.dumps(saved))
    sys.stdout.flush()
    sys.stderr.flush()
    # Same process id, a fresh image without the command-line tool in memory.
    os.execve(sys.executable, argv, {**os.environ, **LEAN_IMPORTS})
