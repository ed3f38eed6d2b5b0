"""The one way tests open a database: a real, migrated SQLite file, closed when done.

Tests take the `db` fixture (tests/conftest.py); a test that closes and opens the same file
again, to see what survives, opens it with `opened(db_path)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ick.storage.sqlite import SqliteDatabase


@asynccontextmanager
async def opened(path: Path) -> AsyncIterator[SqliteDatabase]:
    """The database at `path`, opened (created and migrated if new) and closed after."""
    database = await SqliteDatabase.open(path)
    try:
        yield database
    finally:
        await database.close()


class CountingDatabase(SqliteDatabase):
    """The real database, counting its transactions (each one commit and one fsync): what
    a path costs in commits is checked by counting them."""

    commits = 0

    async def _commit(self, group: list[Any]) -> None:
        self.commits += 1
        await super()._commit(group)
