"""Preparing the host: the tmpfs systemd-nspawn insists on under /run/systemd/nspawn, and
binfmt_misc for running foreign architectures through qemu-user-static."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from ick.runners.mounts import fstype_at, mount

log = logging.getLogger(__name__)

NSPAWN_RUN = Path("/run/systemd/nspawn")
BINFMT_MISC = Path("/proc/sys/fs/binfmt_misc")


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


def prepare_binfmt(path: Path = BINFMT_MISC) -> None:
    """Foreign architectures run through qemu-user's binfmt handlers, which the kernel knows
    only with binfmt_misc mounted; where nobody mounted it (no systemd), mount it, and have
    update-binfmts register the handlers qemu-user-static installed."""
    if fstype_at(path) != "binfmt_misc":
        try:
            mount("binfmt_misc", path, "binfmt_misc")
            log.info("mounted binfmt_misc on %s for foreign architectures", path)
        except OSError as e:
            log.warning("cannot mount binfmt_misc on %s (no foreign architectures): %s",
                        path, e)
            return
    if any(path.glob("qemu-*")):
        return
    update = shutil.which("update-binfmts")
    if update is None:
        return
    try:
        subprocess.run([update, "--enable"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("update-binfmts --enable failed: %s", e)
