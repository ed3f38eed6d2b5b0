"""Profile of one trivial build (a one-action `shell: "true"` host build) on a real daemon:
what each build costs in database trips and commits, fsyncs, files opened and processes
spawned (per build: a run of N builds less a run of none), and where the daemon's CPU goes.

The daemon runs as its own process (`python -I -m ick.daemon`) under cProfile, then under
strace -f -c; nothing in ick knows it is measured. Usage: bench/profile_build.py [--builds N]
[--top N] [--no-strace]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.builds import ICK, latency  # noqa: E402
from ick.storage import sqlite  # noqa: E402
from tests.daemon import Daemon  # noqa: E402

# Functions whose calls per build are counted from the profile: (label, [(file part, name,
# first line or None)]); the counts of a label's functions add up. Only plain functions:
# cProfile counts each resumption of a coroutine as a call.
COUNTED: list[tuple[str, list[tuple[str, str, int | None]]]] = [
    ("write transactions (group commits)",
     [("ick/storage/sqlite.py", "__init__", sqlite.SqliteTx.__init__.__code__.co_firstlineno)]),
    ("  their statements, run on the event loop",
     [("ick/storage/sqlite.py", "run", sqlite._Statement.run.__code__.co_firstlineno)]),
    ("calls to a database thread (COMMIT, reads)",
     [("~", "<method 'put' of '_queue.SimpleQueue' objects>", None),
      ("~", "<method 'put_nowait' of '_queue.SimpleQueue' objects>", None)]),
    ("log appends", [("ick/storage/logs.py", "append", None)]),
    ("JSON documents made", [("json/__init__.py", "dumps", None)]),
    ("JSON documents read", [("json/__init__.py", "loads", None)]),
    ("processes spawned", [("~", "<built-in method _posixsubprocess.fork_exec>", None)]),
]
SYSCALLS = ["fsync", "fdatasync", "openat", "clone", "clone3", "vfork", "execve", "pwrite64",
            "write", "epoll_wait", "futex"]


class WrappedDaemon(Daemon):
    """The daemon's own process, started under a wrapper command (cProfile, strace)."""

    def __init__(self, state_dir: Path, wrapper: list[str], module: list[str]) -> None:
        super().__init__(state_dir, workers=2)
        self.wrapper = wrapper
        self.module = module

    def command(self, port: int) -> list[str]:
        return [*self.wrapper, sys.executable, "-I", *self.module, "ick.daemon",
                "--listen", f"127.0.0.1:{port}", "--state-dir", str(self.state_dir),
                "--workers", str(self.workers)]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        # Under strace the daemon is strace's child: it is the one to stop.
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        if self.wrapper and children.exists():
            for pid in children.read_text().split():
                os.kill(int(pid), sig)
            return self.proc.wait(timeout)
        return super().stop(sig, timeout)


async def drive(daemon: Daemon, builds: int) -> None:
    daemon.apply(ICK)
    headers = {"Authorization": f"Bearer {daemon.admin_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        if builds:
            await latency(session, daemon.url, builds)


def run(tmp: Path, name: str, wrapper: list[str], module: list[str], builds: int) -> None:
    daemon = WrappedDaemon(tmp / name, wrapper, module).start()
    try:
        asyncio.run(drive(daemon, builds))
    finally:
        daemon.stop()


def profile(tmp: Path, builds: int) -> tuple[pstats.Stats, pstats.Stats]:
    stats = []
    for n in (0, builds):
        out = tmp / f"prof-{n}"
        run(tmp, f"p{n}", [], ["-m", "cProfile", "-o", str(out), "-m"], n)
        stats.append(pstats.Stats(str(out)))
    return stats[0], stats[1]


def calls(stats: pstats.Stats, functions: list[tuple[str, str, int | None]]) -> int:
    table = stats.stats  # type: ignore[attr-defined]
    return sum(v[1] for (file, line, func), v in table.items()
               for path, name, first in functions
               if func == name and path in file and first in (None, line))


def syscalls(tmp: Path, builds: int) -> dict[str, int]:
    counts: list[dict[str, int]] = []
    for n in (0, builds):
        out = tmp / f"strace-{n}"
        wrapper = ["strace", "-f", "-c", "-o", str(out), "-e", "trace=" + ",".join(SYSCALLS)]
        run(tmp, f"s{n}", wrapper, ["-m"], n)
        found = {}
        for line in out.read_text().splitlines():
            m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
            if m:
                found[m.group(2)] = int(m.group(1))
        counts.append(found)
    return {k: counts[1].get(k, 0) - counts[0].get(k, 0) for k in SYSCALLS}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=200)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-strace", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        idle, busy = profile(tmp, args.builds)
        print(f"per build (a run of {args.builds} one-action builds less a run of none):")
        for label, functions in COUNTED:
            n = calls(busy, functions) - calls(idle, functions)
            print(f"  {label:44} {n / args.builds:6.2f}")
        print("  (a cProfile of this many builds also shows each function's calls)")
        if not args.no_strace and shutil.which("strace"):
            for call, n in syscalls(tmp, args.builds).items():
                print(f"  syscall {call:32} {n / args.builds:6.2f}")
        print(f"\nthe daemon's CPU over the run of {args.builds} builds (and its start):")
        busy.sort_stats("tottime").print_stats(args.top)
        busy.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
