"""Build ids and numbers given out by the build store (ick/storage/builds.py): read from the
database once, then counted in memory; never given twice, even across a restart or when
another writer of the database gave some out meanwhile (IdsTaken, having written nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ick.storage.builds import BuildStore, IdsTaken
from ick.storage.sqlite import SqliteDatabase
from tests.databases import opened

T0 = "2024-01-01T00:00:00.000Z"


async def test_ids_and_numbers_go_on_from_the_database_s_after_a_restart(
        db_path: Path) -> None:
    async with opened(db_path) as db:
        store = BuildStore(db)
        made = [await store.create(p, {}, False, [], T0) for p in ("a", "b", "a")]
        await db.execute("DELETE FROM builds")  # pruned: the counters outlive the rows
    async with opened(db_path) as db:
        again = [await BuildStore(db).create(p, {}, False, [], T0) for p in ("a", "b")]
    assert [(b.id, b.number) for b in made] == [(1, 1), (2, 1), (3, 2)]
    assert [(b.id, b.number) for b in again] == [(4, 3), (5, 2)]


async def test_ids_another_writer_took_are_refused_then_skipped(db: SqliteDatabase) -> None:
    mine, theirs = BuildStore(db), BuildStore(db)
    first = await mine.create("a", {}, False, [], T0)
    taken = await theirs.create("a", {}, False, [], T0)
    assert (first.id, first.number, taken.id, taken.number) == (1, 1, 2, 2)
    with pytest.raises(IdsTaken, match="build id 2 or number 2 of project 'a'"):
        await mine.create("a", {}, False, [], T0)
    assert [b.id for b in await mine.list()] == [2, 1]  # nothing written
    after = await mine.create("a", {}, False, [], T0)
    assert (after.id, after.number) == (3, 3)
