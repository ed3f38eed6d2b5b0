"""Build logs (ick/storage/logs.py) as real files: appending, reading, following a live log."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ick.storage.logs import LogStore

WAIT = 5.0  # the most any awaited event may take before the test fails


def test_append_and_read_from_an_offset(tmp_path: Path) -> None:
    logs = LogStore(tmp_path / "logs")
    assert (logs.read(1, 0), logs.size(1)) == (b"", 0)
    logs.append(1, b"hello ")
    logs.append(1, b"world\n")
    logs.append(2, b"other")
    assert logs.read(1, 0) == b"hello world\n"
    assert logs.read(1, 6) == b"world\n"
    assert logs.read(1, 6, limit=3) == b"wor"
    assert logs.read(1, 100) == b""
    assert logs.size(1) == 12
    assert logs.path(1).read_bytes() == b"hello world\n"
    logs.close(1)
    logs.append(1, b"more\n")  # appending after close reopens the file, never truncates it
    assert logs.read(1, 0) == b"hello world\nmore\n"
    logs.close_all()


async def collect(logs: LogStore, build_id: int, offset: int,
                  into: asyncio.Queue[bytes | None]) -> None:
    async for chunk in logs.follow(build_id, offset):
        await into.put(chunk)
    await into.put(None)


async def test_follow_waits_for_growth_and_ends_when_the_log_closes(tmp_path: Path) -> None:
    logs = LogStore(tmp_path / "logs")
    logs.open(7)
    assert logs.is_live(7)
    logs.append(7, b"one\n")
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
    task = asyncio.create_task(collect(logs, 7, 2, chunks))
    try:
        assert await asyncio.wait_for(chunks.get(), WAIT) == b"e\n"
        assert chunks.empty()
        logs.append(7, b"two\n")
        assert await asyncio.wait_for(chunks.get(), WAIT) == b"two\n"
        logs.append(7, b"three\n")
        logs.close(7)
        assert not logs.is_live(7)
        got = []
        while (chunk := await asyncio.wait_for(chunks.get(), WAIT)) is not None:
            got.append(chunk)
        assert b"".join(got) == b"three\n"
        await asyncio.wait_for(task, WAIT)
    finally:
        task.cancel()


async def test_follow_of_a_finished_log_gives_it_all_and_ends(tmp_path: Path) -> None:
    logs = LogStore(tmp_path / "logs")
    logs.append(3, b"x" * 70_000)  # more than one chunk
    got = [chunk async for chunk in logs.follow(3, 0)]
    assert len(got) == 2
    assert b"".join(got) == b"x" * 70_000
    assert [chunk async for chunk in logs.follow(4, 0)] == []  # no log at all
    logs.close_all()


async def test_follow_gives_up_after_its_timeout_on_a_quiet_live_log(tmp_path: Path) -> None:
    logs = LogStore(tmp_path / "logs")
    logs.open(5)
    logs.append(5, b"start\n")

    async def follow_all() -> list[bytes]:
        return [chunk async for chunk in logs.follow(5, 0, timeout=0.05)]

    assert await asyncio.wait_for(follow_all(), WAIT) == [b"start\n"]
    assert logs.is_live(5)
    logs.close_all()
