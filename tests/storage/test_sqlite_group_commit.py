"""SqliteDatabase.write's group commit (ick/storage/sqlite.py) against a real SQLite file:
writes that queue up share one transaction, each fails only by its own error, and Tx.each runs
its statements together and all or none."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from ick.storage.db import Database, Tx
from ick.storage.sqlite import SqliteDatabase


@pytest.fixture
async def db(db: Database) -> Database:
    """The shared `db` fixture (tests/conftest.py) with a table of its own to write to."""
    await db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
    return db


async def begins(db: SqliteDatabase, work: Awaitable[object]) -> int:
    """How many transactions `work` took, counted by SQLite's own trace of statements."""
    seen: list[str] = []
    await db.on_writer(lambda conn: conn.set_trace_callback(seen.append))
    try:
        await work
    finally:
        await db.on_writer(lambda conn: conn.set_trace_callback(None))
    return sum(1 for s in seen if s.startswith("BEGIN"))


def insert(key: str, value: int) -> Callable[[Tx], Awaitable[str]]:
    async def run(tx: Tx) -> str:
        await tx.execute("INSERT INTO t (k, v) VALUES (?, ?)", (key, value))
        return key
    return run


async def rows(db: SqliteDatabase) -> dict[str, int]:
    return {r[0]: r[1] for r in await db.fetchall("SELECT k, v FROM t")}


async def test_writes_that_queue_up_share_one_transaction_and_each_gets_its_result(
        db: SqliteDatabase) -> None:
    work = asyncio.gather(*(db.write(insert(f"k{i}", i)) for i in range(20)))
    assert await begins(db, work) <= 2  # the first alone, perhaps; the rest together
    assert work.result() == [f"k{i}" for i in range(20)]
    assert await rows(db) == {f"k{i}": i for i in range(20)}


async def test_a_failing_write_in_a_group_fails_alone_and_the_others_are_kept(
        db: SqliteDatabase) -> None:
    await db.write(insert("taken", 0))
    writes = [db.write(insert(k, 1)) for k in ("a", "taken", "b")]
    results = await asyncio.gather(*writes, return_exceptions=True)
    assert results[0] == "a" and results[2] == "b"
    assert "UNIQUE constraint failed" in str(results[1])
    assert await rows(db) == {"taken": 0, "a": 1, "b": 1}


async def test_a_cancelled_write_that_no_group_took_is_not_done(db: SqliteDatabase) -> None:
    async with db.lock:  # hold the connection: the write waits in the queue
        waiting = asyncio.ensure_future(db.write(insert("gone", 1)))
        # One turn of the loop, no clock: the write queues itself and waits for the lock the
        # test holds, so it cannot be done, whatever the machine's speed.
        await asyncio.sleep(0)
        assert not waiting.done()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    await db.write(insert("after", 2))
    assert await rows(db) == {"after": 2}


async def test_each_runs_every_statement_and_a_failure_rolls_them_all_back(
        db: SqliteDatabase) -> None:
    async def both(tx: Tx) -> None:
        await tx.each(tx.execute("INSERT INTO t (k, v) VALUES ('x', 1)"),
                      tx.execute("INSERT INTO t (k, v) VALUES ('y', NULL)"))  # NOT NULL

    with pytest.raises(Exception, match="NOT NULL"):
        await db.write(both)
    assert await rows(db) == {}

    async def fine(tx: Tx) -> None:
        await tx.each(tx.execute("INSERT INTO t (k, v) VALUES ('x', 1)"),
                      tx.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [("y", 2), ("z", 3)]))

    await db.write(fine)
    assert await rows(db) == {"x": 1, "y": 2, "z": 3}
