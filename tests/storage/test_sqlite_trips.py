"""The writer's thread (ick/storage/sqlite.py, WriterThread) takes a transaction's statements
in few trips: those given to Tx.each next to each other go in one, a coroutine among them
runs its statements in its place, a failing one fails the write after the others ran, and
the BEGIN of a group costs no trip back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ick.storage.db import Database, Tx
from ick.storage.sqlite import SqliteDatabase


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


async def test_statements_next_to_each_other_go_in_one_trip(db: SqliteDatabase) -> None:
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
    assert trips.count == 2  # BEGIN with the statements, then COMMIT


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


async def test_a_statement_awaited_alone_is_a_trip_and_an_empty_executemany_none(
        db: SqliteDatabase) -> None:
    trips = Trips(db)

    async def write(tx: Tx) -> int:
        await tx.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [])
        return await tx.execute("INSERT INTO t (k, v) VALUES ('a', 1)")

    assert await db.write(write) == 1
    assert trips.count == 2  # the INSERT and COMMIT
