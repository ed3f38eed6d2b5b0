"""Looking at processes from tests: alive or not, dead in time, their memory."""

from __future__ import annotations

import os
import subprocess
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
    pids = poll(lambda: pids_named(argv0), bool, timeout, lambda _: f"no process {argv0!r}",
                interval=0.02)
    assert len(pids) == 1, f"more than one process {argv0!r}: {pids}"
    return pids[0]


def wait_none_named(argv0: str, timeout: float = 10) -> None:
    """Poll (bounded) until no process is named `argv0`."""
    poll(lambda: pids_named(argv0), lambda pids: not pids, timeout,
         lambda pids: f"processes {argv0!r} still run: {pids}")


def sleeper(procs: list[subprocess.Popen[bytes]], env: dict[str, str]) -> int:
    """A `sleep 300` leading a process group of its own, as an action's process would, with
    `env` added to ours (ICK_BUILD_ID, ICK_WORKSPACE); kept in `procs` to be reaped."""
    proc = subprocess.Popen(["sleep", "300"], env={**os.environ, **env},
                            start_new_session=True)
    procs.append(proc)
    return proc.pid
