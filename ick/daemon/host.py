"""Preparing the host for systemd-nspawn: the tmpfs it insists on under /run/systemd/nspawn."""

from __future__ import annotations

import logging
from pathlib import Path

from ick.runners.mounts import fstype_at, mount

log = logging.getLogger(__name__)

NSPAWN_RUN = Path("/run/systemd/nspawn")


def prepare_nspawn(path: Path = NSPAWN_RUN) -> None:
    """systemd-nspawn refuses to start unless its folder is on a tmpfs ("Attempted to remove
    disk file system"); without systemd nobody mounts one. It stays: other daemons share it."""
    if fstype_at(path) == "tmpfs":
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
        mount("tmpfs", path, "tmpfs", "mode=0755")
        log.info("mounted a tmpfs on %s for systemd-nspawn", path)
    except OSError as e:
        log.warning("cannot mount a tmpfs on %s (containers will not start): %s", path, e)
