"""Where a build's private run directory (scripts, parameters, secrets) lives: on a tmpfs.

Secrets written there never touch a disk, and ext4 here pays dearly for creating files
right after deleting many (its inode allocator searches past recently deleted ones).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

TMPFS_CANDIDATES = ("/run/user/{uid}", "/dev/shm")


def _is_tmpfs(path: str) -> bool:
    try:
        with open("/proc/mounts") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return False
    best = ("", "")
    for fields in mounts:
        if len(fields) < 3:
            continue
        point, fstype = fields[1], fields[2]
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best[0]):
            best = (point, fstype)
    return best[1] == "tmpfs"


def _private_dir(path: Path) -> bool:
    """Make `path` a directory only we can use; False if it exists and is not ours."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    info = os.lstat(path)
    return (
        stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
        and stat.S_IMODE(info.st_mode) == 0o700
    )


def run_root(state_dir: Path) -> Path:
    """A private directory on a tmpfs for this state dir's builds, else STATE/run."""
    tag = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    for candidate in TMPFS_CANDIDATES:
        base = candidate.format(uid=os.getuid())
        if os.path.isdir(base) and os.access(base, os.W_OK) and _is_tmpfs(base):
            path = Path(base) / f"ick-{os.getuid()}-{tag}"
            if _private_dir(path):
                return path
    fallback = state_dir / "run"
    fallback.mkdir(parents=True, exist_ok=True, mode=0o700)
    return fallback
