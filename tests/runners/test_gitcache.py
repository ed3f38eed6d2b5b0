"""The mirror lock: one task at a time inside a process, one process at a time via flock."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from ick.errors import ActionError
from ick.runners.gitcache import MirrorLocks


async def test_mirror_lock_lets_one_task_at_a_time(tmp_path: Path) -> None:
    locks = MirrorLocks()
    lock_file = tmp_path / "git" / "m.lock"
    inside: list[str] = []
    waited: list[str] = []
    release = asyncio.Event()

    async def first() -> None:
        async with locks.hold(lock_file, lambda: waited.append("first")):
            inside.append("first in")
            await release.wait()
            inside.append("first out")

    async def second() -> None:
        async with locks.hold(lock_file, lambda: waited.append("second")):
            inside.append("second in")

    task = asyncio.ensure_future(first())
    while not inside:
        await asyncio.sleep(0)
    other = asyncio.ensure_future(second())
    async with asyncio.timeout(5):  # until it says it waits: first holds the lock till release
        while not waited:
            await asyncio.sleep(0)
    assert inside == ["first in"] and not other.done()
    release.set()
    await asyncio.wait_for(asyncio.gather(task, other), 5)
    assert inside == ["first in", "first out", "second in"]
    assert waited == ["second"]


HOLD_FLOCK = (
    "import fcntl, sys\n"
    "f = open(sys.argv[1], 'a')\n"
    "fcntl.flock(f, fcntl.LOCK_EX)\n"
    "print('locked', flush=True)\n"
    "sys.stdin.read()\n"
)


async def test_mirror_lock_waits_for_another_process(tmp_path: Path) -> None:
    lock_file = tmp_path / "m.lock"
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD_FLOCK, str(lock_file),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert await asyncio.wait_for(holder.stdout.readline(), 10) == b"locked\n"
        waited: list[bool] = []
        locks = MirrorLocks()

        async def take() -> None:
            async with locks.hold(lock_file, lambda: waited.append(True)):
                pass

        attempt = asyncio.ensure_future(take())
        async with asyncio.timeout(10):  # until it says it waits: the holder keeps the flock
            while not waited:            # until its stdin closes
                await asyncio.sleep(0.01)
        assert waited == [True] and not attempt.done()
        holder.stdin.close()
        await asyncio.wait_for(attempt, 10)
        with pytest.raises(ActionError, match="waited too long for the mirror lock"):
            holder2 = await asyncio.create_subprocess_exec(
                sys.executable, "-c", HOLD_FLOCK, str(lock_file),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            try:
                assert holder2.stdout is not None
                assert await asyncio.wait_for(holder2.stdout.readline(), 10) == b"locked\n"
                async with locks.hold(lock_file, lambda: None, wait=0.1):
                    pass
            finally:
                holder2.kill()
                await holder2.wait()
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
