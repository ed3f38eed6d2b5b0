"""What routing needs of each action (ick/storage/builds.py) is stored with the action, so a
build routes the same after a restart; actions stored before that are decided once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ick.model import ActionRecord, ActionTraits, BuildState
from ick.storage.builds import BuildStore
from ick.storage.sqlite import MIGRATIONS
from tests.databases import opened

T0 = "2026-01-01T00:00:00.000Z"


async def test_local_and_arch_key_survive_a_restart(db_path: Path) -> None:
    actions = [ActionRecord("pl", 0, "apt_publish", "host", {"action": "apt_publish"},
                            local=True),
               ActionRecord("pl", 1, "debootstrap", "host", {"debootstrap": "auto"},
                            arch_key="debian_arch")]
    async with opened(db_path) as db:
        build = await BuildStore(db).create("p", {}, False, actions, T0)
    async with opened(db_path) as db:
        got = await BuildStore(db).get(build.id)
    assert got is not None
    assert [a.traits for a in got.actions] == [
        ActionTraits("apt_publish", local=True),
        ActionTraits("debootstrap", arch_key="debian_arch")]


def old_database(path: Path) -> None:
    """Schema version 6: a queued, a running and a finished build, written the old way."""
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:6]:
        conn.executescript(script)
    for build_id, state in ((1, "queued"), (2, "running"), (3, "failed")):
        conn.execute("INSERT INTO builds (id, project, number, state, parameters, queued_at) "
                     "VALUES (?, 'p', ?, ?, '{}', 't0')", (build_id, build_id, state))
        conn.execute("INSERT INTO build_jobs (build_id, job, state) VALUES (?, 0, ?)",
                     (build_id, state))
        for seq, kind in enumerate(("apt_publish", "shell")):
            conn.execute("INSERT INTO build_actions (build_id, seq, pipeline, idx, kind, place, "
                         "spec, state, job) VALUES (?, ?, 'pl', ?, ?, 'host', '{}', 'pending', 0)",
                         (build_id, seq, seq, kind))
    conn.execute("PRAGMA user_version=6")
    conn.commit()
    conn.close()


async def test_unfinished_actions_from_before_are_decided_by_kind(db_path: Path) -> None:
    old_database(db_path)
    async with opened(db_path) as db:
        store = BuildStore(db)
        assert await store.undecided_kinds() == ["apt_publish", "shell"]
        await store.decide_actions([ActionTraits("apt_publish", local=True),
                                    ActionTraits("shell")])
        assert await store.undecided_kinds() == []
        for build_id, local in ((1, True), (2, True), (3, False)):
            got = await store.get(build_id)
            assert got is not None
            assert [a.local for a in got.actions] == [local, False], build_id
        finished = await store.get(3)
        assert finished is not None and finished.state is BuildState.FAILED
