"""A pipeline's actions' traits (ick/storage/resources.py): kept beside its document, read back
with it, NULL for a pipeline stored before ick kept them until the daemon decides them."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

from ick.model import ActionTraits, Pipeline
from ick.storage.db import Database
from ick.storage.resources import ResourceStore
from ick.storage.sqlite import MIGRATIONS
from tests.databases import opened

ACTIONS = [{"shell": "true", "where": "host"}, {"action": "apt_publish", "where": "host"},
           {"debootstrap": "auto", "where": "host"}]
TRAITS = (ActionTraits("shell"), ActionTraits("apt_publish", local=True),
          ActionTraits("debootstrap", arch_key="debian_arch"))
DOC = {"pipeline": "pl", "parameters": [], "actions": ACTIONS}


async def test_traits_are_stored_beside_the_document_and_read_back(db: Database) -> None:
    store = ResourceStore(db)
    await store.put_pipeline(Pipeline("pl", [], ACTIONS, traits=TRAITS))
    await store.put_all([Pipeline("other", [], ACTIONS[:1], traits=TRAITS[:1])], [])
    for read in (store, ResourceStore(db)):  # the cache, and the database itself
        got = await read.pipeline("pl")
        assert got is not None and got.traits == TRAITS
        assert got.to_doc() == DOC  # what GET /pipelines shows: the document alone
        assert [p.traits for p in await read.pipelines()] == [TRAITS[:1], TRAITS]
    rows = await db.fetchall("SELECT doc FROM pipelines WHERE name = 'pl'")
    assert json.loads(rows[0][0]) == DOC
    assert await store.undecided_pipelines() == []


async def test_a_pipeline_without_traits_for_each_action_is_undecided(db: Database) -> None:
    store = ResourceStore(db)
    await store.put_pipeline(Pipeline("pl", [], ACTIONS))
    await store.put_pipeline(Pipeline("short", [], ACTIONS, traits=TRAITS[:1]))
    await store.put_pipeline(Pipeline("empty", [], [], traits=()))
    assert [p.name for p in await store.undecided_pipelines()] == ["pl", "short"]
    got = await store.pipeline("pl")
    assert got is not None and got.traits is None
    await store.decide([replace(got, traits=TRAITS)])
    assert await store.undecided_pipelines() == [
        Pipeline("short", [], ACTIONS, traits=None)]
    got = await store.pipeline("pl")  # the cache was dropped
    assert got is not None and (got.traits, got.to_doc()) == (TRAITS, DOC)


async def test_a_pipeline_stored_the_old_way_reads_as_undecided(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    for script in MIGRATIONS[:6]:
        conn.executescript(script)
    conn.execute("INSERT INTO pipelines VALUES (?, ?, ?)", ("pl", json.dumps(DOC), "t0"))
    conn.execute("PRAGMA user_version=6")
    conn.commit()
    conn.close()
    async with opened(db_path) as db:
        store = ResourceStore(db)
        got = await store.pipeline("pl")
        assert got is not None and (got.traits, got.to_doc()) == (None, DOC)
        assert [p.name for p in await store.undecided_pipelines()] == ["pl"]
