"""Looking at processes from tests: alive or not, dead in time, their memory."""

from __future__ import annotations

from pathlib import Path

from tests.polling import TimedOut, poll


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_dead(pid: int, timeout: float = 10) -> bool:
    """Poll (bounded) until `pid` is gone; False if it still runs at the deadline."""
    try:
        poll(lambda: alive(pid), lambda running: not running, timeout, lambda _: "")
    except TimedOut:
        return False
    return True


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
