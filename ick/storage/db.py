"""The one SQLite connection (aiosqlite, WAL) and the schema, migrated on open."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

# Each entry moves the schema one version up; never edit a released one, append.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE projects (name TEXT PRIMARY KEY, doc TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE pipelines (name TEXT PRIMARY KEY, doc TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE builds (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project TEXT NOT NULL,
        number INTEGER NOT NULL,
        state TEXT NOT NULL,
        parameters TEXT NOT NULL,
        concurrent INTEGER NOT NULL DEFAULT 0,
        queued_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        worker TEXT,
        UNIQUE (project, number)
    );
    CREATE INDEX builds_state ON builds (state);
    CREATE TABLE build_actions (
        build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        pipeline TEXT NOT NULL,
        idx INTEGER NOT NULL,
        kind TEXT NOT NULL,
        place TEXT NOT NULL,
        spec TEXT NOT NULL,
        state TEXT NOT NULL,
        exit_code INTEGER,
        duration REAL,
        message TEXT,
        details TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (build_id, seq)
    );
    CREATE TABLE tokens (
        key_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
]


class Database:
    """Owns the aiosqlite connection; other storage classes run their SQL through it."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    @classmethod
    async def open(cls, path: Path) -> Database:
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        db = cls(conn)
        await db.execute("PRAGMA journal_mode=WAL")
        # FULL: a transition we acknowledged survives power loss, not only SIGKILL.
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        await db.migrate()
        return db

    async def close(self) -> None:
        await self.conn.close()

    async def migrate(self) -> None:
        rows = await self.fetchall("PRAGMA user_version")
        version = int(rows[0][0])
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            log.info("migrating database schema to version %d", number)
            statements = [s for s in script.split(";") if s.strip()]
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements:
                    await self.conn.execute(statement)
                await self.conn.execute(f"PRAGMA user_version={number}")
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement as its own transaction; return the number of changed rows."""
        cursor = await self.conn.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one INSERT as its own transaction; return the new row id."""
        row_id = await self.conn.execute_insert(sql, params)
        assert row_id is not None
        return int(row_id[0])

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def transaction(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Run several statements atomically."""
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, params in statements:
                await self.conn.execute(sql, params)
            await self.conn.execute("COMMIT")
        except BaseException:
            await self.conn.execute("ROLLBACK")
            raise
