"""One daemon per state directory: an exclusive flock on STATE/lock, held while it runs."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from ick.errors import IckError


class StateInUseError(IckError):
    """Another `ick serve` holds the state directory's lock."""


def lock_state_dir(state_dir: Path) -> int:
    """Take STATE/lock (creating only STATE and the lock file) and write our pid in it.

    The lock lasts as long as the returned descriptor is open, which is the daemon's life:
    it is not inherited by children, so a process a build left behind never holds it.
    """
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = ""
        with contextlib.suppress(OSError):
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        pid = holder if holder.isdigit() else "unknown"
        raise StateInUseError(
            f"{state_dir} is in use by another ick serve (pid {pid})") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
