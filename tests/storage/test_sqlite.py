"""ick/storage/sqlite.py against a real file: the dialect's SQL runs on SQLite, reads never
wait behind the writer (even while its thread is busy, as in an fsync), a read after a write
sees it on the writer's connection and on a reader's, and the readers cannot write."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from ick.storage.db import Database, Tx
from ick.storage.sqlite import SqliteDatabase

DEADLINE = 30.0  # a guard against hanging, not a measure: the test fails if it is reached


@pytest.fixture
async def db(db: SqliteDatabase) -> SqliteDatabase:
    """The shared `db` fixture (tests/conftest.py) with a table of its own to write to."""
    await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                     "k TEXT UNIQUE NOT NULL, v TEXT NOT NULL)")
    return db


async def values(db: Database) -> dict[str, str]:
    return {k: v for k, v in await db.fetchall("SELECT k, v FROM t")}


async def test_a_read_returns_while_the_writers_thread_is_held_inside_a_transaction(
        db: SqliteDatabase) -> None:
    await db.execute("INSERT INTO t (k, v) VALUES ('old', '1')")
    entered, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> int:  # the writer's thread waits, as in an fsync
        entered.set()
        return int(release.wait(DEADLINE))

    async def slow_write(tx: Tx) -> None:
        await tx.execute("INSERT INTO t (k, v) VALUES ('new', '2')")
        await db.writer.call(hold)  # inside the open transaction, as its COMMIT would be

    writing = asyncio.ensure_future(db.write(slow_write))
    try:
        assert await asyncio.to_thread(entered.wait, DEADLINE)
        async with asyncio.timeout(DEADLINE):
            seen = await values(db)
        assert seen == {"old": "1"}  # the open transaction's row is not visible yet
    finally:
        release.set()
        await writing
    assert await values(db) == {"old": "1", "new": "2"}


async def test_a_read_after_a_write_sees_it(db: SqliteDatabase) -> None:
    for i in range(50):  # whichever reader the read takes
        async def insert(tx: Tx, i: int = i) -> int:
            return await tx.execute("INSERT INTO t (k, v) VALUES (?, ?)", (f"k{i}", str(i)))

        await db.write(insert)
        assert (await db.fetchall("SELECT v FROM t WHERE k = ?", (f"k{i}",))) == [(str(i),)]
        await db.execute("UPDATE t SET v = 'changed' WHERE k = ?", (f"k{i}",))
        async with db.lock:  # the writer is busy: the read goes to a reader
            seen = await db.fetchall("SELECT v FROM t WHERE k = ?", (f"k{i}",))
        assert seen == [("changed",)]


async def test_readers_cannot_write(db: SqliteDatabase) -> None:
    async with db.lock:  # the writer is busy: the read goes to a reader
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.fetchall("INSERT INTO t (k, v) VALUES ('x', 'y') RETURNING id")
    assert await values(db) == {}


async def test_rows_are_plain_tuples(db: SqliteDatabase) -> None:
    await db.execute("INSERT INTO t (k, v) VALUES ('a', 'b')")
    rows = await db.fetchall("SELECT k, v FROM t")
    assert rows == [("a", "b")] and type(rows[0]) is tuple

    async def read(tx: Tx) -> object:
        return await tx.fetchone("SELECT k, v FROM t")

    assert type(await db.write(read)) is tuple


async def test_json_value_reads_keys_and_list_indexes(db: SqliteDatabase) -> None:
    expr = db.dialect.json_value("?", ("git", 0, "commit"))
    rows = await db.fetchall(f"SELECT {expr}", ('{"git": [{"commit": "abc"}]}',))
    assert rows == [("abc",)]
    rows = await db.fetchall(f"SELECT {expr}", ('{"other": 1}',))
    assert rows == [(None,)]


async def test_upsert_inserts_then_updates_all_but_the_key(db: SqliteDatabase) -> None:
    sql = db.dialect.upsert("t", ("k", "v"), ("k",))
    await db.execute(sql, ("a", "1"))
    await db.execute(sql, ("a", "2"))
    await db.execute(sql, ("b", "3"))
    assert await values(db) == {"a": "2", "b": "3"}


async def test_top_id_outlives_the_rows(db: SqliteDatabase) -> None:
    assert await db.fetchall(db.dialect.top_id("t")) == [(0,)]
    await db.execute("INSERT INTO t (k, v) VALUES ('a', '1')")
    await db.execute("INSERT INTO t (k, v) VALUES ('b', '1')")
    await db.execute("DELETE FROM t")
    assert await db.fetchall(db.dialect.top_id("t")) == [(2,)]


async def test_a_database_with_no_readers_reads_on_the_writer(tmp_path: Path) -> None:
    db = await SqliteDatabase.open(tmp_path / "ick.db", readers=0)
    try:
        await db.execute("CREATE TABLE t (k TEXT)")
        await db.execute("INSERT INTO t (k) VALUES ('a')")
        assert await db.fetchall("SELECT k FROM t") == [("a",)]
    finally:
        await db.close()


async def test_close_closes_the_readers_and_the_writer(tmp_path: Path) -> None:
    db = await SqliteDatabase.open(tmp_path / "ick.db")
    await db.close()
    # The writer's close checkpointed and removed the WAL: no reader held it open.
    assert not (tmp_path / "ick.db-wal").exists()
