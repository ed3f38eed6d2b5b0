"""A Debian minbase tree as a zstd tarball, built by the real debootstrap once and cached.

Shared by the test fixture `bookworm_tarball` (tests/conftest.py) and bench/containers.py.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from ick.runners.aptsources import default_mirror
from ick.runners.tarball import KEEP

CACHE_DIR = Path("/var/cache/ick-tests")
DEBOOTSTRAP_TIMEOUT = 600


def tarball_path(codename: str, cache_dir: Path = CACHE_DIR, arch: str | None = None) -> Path:
    """The cached tree: the host's architecture unless `arch` names another."""
    if arch is None:
        return cache_dir / f"{codename}-minbase.tar.zst"
    return cache_dir / f"{codename}-{arch}-minbase.tar.zst"


def build_tarball(codename: str, dest: Path, arch: str | None = None) -> Path:
    """debootstrap --variant=minbase CODENAME (for `arch`, emulated where it is foreign),
    packed as ick's archive action packs a tree."""
    mirror = default_mirror(codename) or "http://deb.debian.org/debian"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".debootstrap-") as work:
        tree = Path(work) / "tree"
        subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "debootstrap",
             "--variant=minbase", *([f"--arch={arch}"] if arch else []), codename, str(tree),
             mirror],
            check=True, capture_output=True, timeout=DEBOOTSTRAP_TIMEOUT,
        )
        partial = Path(work) / "tree.tar.zst"
        subprocess.run(
            ["tar", "--create", "--file", str(partial), "--use-compress-program", "zstd -T0",
             *KEEP, "--directory", str(tree), "."],
            check=True, capture_output=True, timeout=DEBOOTSTRAP_TIMEOUT,
        )
        os.replace(partial, dest)  # whole or not at all: a later run trusts what it finds
    return dest


def bookworm_tarball(scratch: Path, codename: str = "bookworm", arch: str | None = None) -> Path:
    """The cached tarball for `codename` (and a foreign `arch`), built first if missing.
    Cached in CACHE_DIR where that is writable (delete the file to rebuild it), else built
    under `scratch`."""
    cached = tarball_path(codename, arch=arch)
    if cached.exists():
        return cached
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        writable = os.access(CACHE_DIR, os.W_OK)
    except OSError:
        writable = False
    return build_tarball(codename, cached if writable else scratch / cached.name, arch)


def root_problem() -> str | None:
    """Why this host cannot run the debootstrap, chroot and container tests, or None."""
    if os.geteuid() != 0:
        return "needs root: debootstrap, chroot, overlayfs and systemd-nspawn run as root"
    return None
