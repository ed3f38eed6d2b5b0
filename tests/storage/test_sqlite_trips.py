"""A write transaction's statements (ick/storage/sqlite.py, SqliteTx) run on the event loop,
in order, and only its COMMIT goes to the writer's thread: one trip per transaction. In
Tx.each a coroutine among statements runs its own in its place, and a failing statement fails
the write after the others ran, keeping nothing. After a call on the thread, statements wait
for it to end before they use the connection."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest

from ick.storage.db import Database, Tx
from ick.storage.sqlite import SqliteDatabase

DEADLINE = 30.0  # a guard against hanging, not a measure


@pytest.fixture
async def db(db: Database) -> Database:
    """The shared `db` fixture (tests/conftest.py) with a table of its own to write to."""
    await db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
    return db


class Trips:
    """Counts the calls made to the writer's thread that someone waits for."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.count = 0
        self._call = db.writer.call

        def call(fn: Callable[[Any], Any]) -> Any:
            self.count += 1
            return self._call(fn)

        db.writer.call = call  # type: ignore[method-assign]


async def test_a_transaction_is_one_trip_to_the_thread(db: SqliteDatabase) -> None:
    trips = Trips(db)

    async def write(tx: Tx) -> list[Any]:
        return await tx.each(
            tx.execute("INSERT INTO t (k, v) VALUES ('a', 1)"),
            tx.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [("b", 2), ("c", 3)]),
            tx.execute("UPDATE t SET v = v + 10 WHERE k IN ('a', 'b')"),
            tx.fetchall("SELECT k, v FROM t ORDER BY k"),
        )

    results = await db.write(write)
    assert results == [1, None, 2, [("a", 11), ("b", 12), ("c", 3)]]
    assert trips.count == 1  # COMMIT


async def test_a_coroutine_among_statements_runs_in_its_place(db: SqliteDatabase) -> None:
    async def count_then_insert(tx: Tx) -> int:
        rows = await tx.fetchall("SELECT COUNT(*) FROM t")
        await tx.execute("INSERT INTO t (k, v) VALUES ('seen', ?)", (rows[0][0],))
        return int(rows[0][0])

    async def write(tx: Tx) -> list[Any]:
        return await tx.each(
            tx.execute("INSERT INTO t (k, v) VALUES ('a', 1)"),
            count_then_insert(tx),
            tx.execute("INSERT INTO t (k, v) VALUES ('b', 2)"),
        )

    assert await db.write(write) == [1, 1, 1]  # it saw 'a', not 'b'
    assert dict(await db.fetchall("SELECT k, v FROM t")) == {"a": 1, "b": 2, "seen": 1}


async def test_a_failing_statement_fails_the_write_and_nothing_is_kept(
        db: SqliteDatabase) -> None:
    await db.execute("INSERT INTO t (k, v) VALUES ('taken', 0)")
    ran: list[str] = []

    async def write(tx: Tx) -> None:
        await tx.each(
            tx.execute("INSERT INTO t (k, v) VALUES ('a', 1)"),
            tx.execute("INSERT INTO t (k, v) VALUES ('taken', 1)"),
            tx.execute("INSERT INTO t (k, v) VALUES ('b', 2)"),
        )
        ran.append("after")

    with pytest.raises(Exception, match="UNIQUE constraint failed"):
        await db.write(write)
    assert ran == []
    assert await db.fetchall("SELECT k, v FROM t") == [("taken", 0)]
    assert not await db.on_writer(lambda conn: conn.in_transaction)


async def test_a_write_that_writes_nothing_takes_no_trip(db: SqliteDatabase) -> None:
    trips = Trips(db)

    async def write(tx: Tx) -> str:
        await tx.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [])
        return "done"

    assert await db.write(write) == "done"
    assert trips.count == 0


async def test_statements_wait_while_the_thread_runs_a_call(db: SqliteDatabase) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        entered.set()
        release.wait(DEADLINE)
        conn.execute("INSERT INTO t (k, v) VALUES ('thread', 1)")

    held = db.writer.call(hold)  # not through the lock: as a rollback left running would be

    async def write(tx: Tx) -> int:
        return int((await tx.fetchall("SELECT COUNT(*) FROM t"))[0][0])

    assert await asyncio.to_thread(entered.wait, DEADLINE)
    writing = asyncio.ensure_future(db.write(write))
    await asyncio.sleep(0.05)
    assert not writing.done()  # it waits for the thread, not uses the connection meanwhile
    release.set()
    async with asyncio.timeout(DEADLINE):
        await held
        assert await writing == 1  # it ran after the thread's insert
