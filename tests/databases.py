"""The one way tests open a database: a real, migrated SQLite file, closed when done.

Tests take the `db` fixture (tests/conftest.py); a test that closes and opens the same file
again, to see what survives, opens it with `opened(db_path)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ick.storage.sqlite import SqliteDatabase


@asynccontextmanager
async def opened(path: Path) -> AsyncIterator[SqliteDatabase]:
    """The database at `path`, opened (created and migrated if new) and closed after."""
    database = await SqliteDatabase.open(path)
    try:
        yield database
    finally:
        await database.close()
