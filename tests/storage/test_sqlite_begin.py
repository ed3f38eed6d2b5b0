"""The BEGIN of a group commit (ick/storage/sqlite.py) goes to the writer's thread with the
first statements: a write cancelled at any point leaves no transaction open and none of its
statements stored, and the next write goes through."""

from __future__ import annotations

import asyncio

import pytest

from ick.storage.db import Database, Tx
from ick.storage.sqlite import SqliteDatabase


@pytest.fixture
async def db(db: Database) -> Database:
    """The shared `db` fixture (tests/conftest.py) with a table of its own to write to."""
    await db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
    return db


@pytest.mark.parametrize("steps", [0, 1, 2, 3])
async def test_a_write_cancelled_mid_group_leaves_nothing_open(db: SqliteDatabase,
                                                               steps: int) -> None:
    started = asyncio.Event()

    async def slow(tx: Tx) -> None:
        await tx.execute("INSERT INTO t (k) VALUES ('cancelled')")
        started.set()
        await asyncio.Event().wait()  # until cancelled

    writing = asyncio.ensure_future(db.write(slow))
    if steps:
        for _ in range(steps):  # cancelled as BEGIN is queued, or later
            await asyncio.sleep(0)
    else:
        async with asyncio.timeout(5):
            await started.wait()
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing

    async def kept(tx: Tx) -> None:
        await tx.execute("INSERT INTO t (k) VALUES ('kept')")

    async with asyncio.timeout(5):
        await db.write(kept)
    assert not await db.on_writer(lambda conn: conn.in_transaction)
    assert await db.fetchall("SELECT k FROM t") == [("kept",)]
