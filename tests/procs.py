"""Looking at processes from tests: alive or not, dead in time, their memory."""

from __future__ import annotations

import time
from pathlib import Path


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_dead(pid: int, timeout: float = 10) -> bool:
    """Poll (bounded) until `pid` is gone; False if it still runs at the deadline."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pids_named(argv0: str) -> list[int]:
    """Processes whose argv[0] is `argv0`: an action starts them with `exec -a NAME`, since
    the pid an action sees ($$, $!) is its own PID namespace's, not the host's."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.split(b"\0", 1)[0] == argv0.encode() and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def wait_named(argv0: str, timeout: float = 30) -> int:
    """Poll (bounded) until one process named `argv0` runs; its pid."""
    deadline = time.monotonic() + timeout
    while not (pids := pids_named(argv0)):
        assert time.monotonic() < deadline, f"no process {argv0!r} started"
        time.sleep(0.02)
    assert len(pids) == 1, f"more than one process {argv0!r}: {pids}"
    return pids[0]
