"""The database (ick/storage/db.py) on a real SQLite file: migrations, write transactions."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ick.model import Project
from ick.storage.db import Database, Tx
from ick.storage.resources import ResourceStore
from ick.storage.sqlite import MIGRATIONS
from tests.databases import opened


async def user_version(db: Database) -> int:
    return int((await db.fetchall("PRAGMA user_version"))[0][0])


async def test_open_migrates_a_new_database_and_a_second_open_changes_nothing(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ick.storage.sqlite")
    async with opened(db_path) as db:
        assert await user_version(db) == len(MIGRATIONS)
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {r[0] for r in rows}
        assert {"projects", "pipelines", "builds", "build_actions", "tokens"} <= tables
        assert (await db.fetchall("PRAGMA journal_mode"))[0][0] == "wal"
        await ResourceStore(db).put_project(Project("kept"))
    migrated = [r.getMessage() for r in caplog.records if "migrating" in r.getMessage()]
    assert migrated == [f"migrating database schema to version {n}"
                        for n in range(1, len(MIGRATIONS) + 1)]
    caplog.clear()

    async with opened(db_path) as db:
        assert await user_version(db) == len(MIGRATIONS)
        assert [p.name for p in await ResourceStore(db).projects()] == ["kept"]
    assert not [r for r in caplog.records if "migrating" in r.getMessage()]


async def test_a_failing_write_is_rolled_back(db: Database) -> None:
    async def half(tx: Tx) -> None:
        await tx.execute("INSERT INTO projects (name, doc, updated_at) VALUES ('x', '{}', 'now')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await db.write(half)
    assert await db.fetchall("SELECT name FROM projects") == []
