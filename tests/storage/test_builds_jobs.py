"""Matrix jobs in storage: a database from before jobs migrates with one job per build, and
a build's jobs and their actions are stored and read back."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from ick.model import ActionRecord, BuildState
from ick.storage.builds import BuildStore
from ick.storage.db import Database
from ick.storage.sqlite import MIGRATIONS
from tests.databases import opened

T0 = "2024-01-01T00:00:00.000Z"


def old_database(path: Path) -> None:
    """A database at schema version 3 (before jobs) with a finished and a queued build."""
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        conn.executescript(script)
    conn.executescript("""
        INSERT INTO builds (project, number, state, parameters, queued_at, started_at,
                            finished_at, worker)
            VALUES ('p', 1, 'failed', '{}', 't0', 't1', 't2', 'local0-ab');
        INSERT INTO builds (project, number, state, parameters, queued_at)
            VALUES ('p', 2, 'queued', '{}', 't3');
        INSERT INTO build_actions (build_id, seq, pipeline, idx, kind, place, spec, state)
            VALUES (1, 0, 'pl', 0, 'shell', 'host', '{"shell": "x"}', 'failed');
        PRAGMA user_version=3;
    """)
    conn.close()


async def test_an_old_database_migrates_with_one_job_per_build(db_path: Path) -> None:
    old_database(db_path)
    async with opened(db_path) as db:
        store = BuildStore(db)
        first = await store.get(1)
        assert first is not None
        assert [(j.job, j.parameters, j.state, j.worker, j.started_at, j.finished_at)
                for j in first.jobs] == [(0, {}, BuildState.FAILED, "local0-ab", "t1", "t2")]
        assert [a.job for a in first.actions] == [0]
        assert first.fail_fast is False
        queued = await store.in_state(BuildState.QUEUED)
        assert [(b.id, [j.state for j in b.jobs]) for b in queued] == [
            (2, [BuildState.QUEUED])]


async def test_a_build_with_jobs_is_stored_and_read_back(db: Database) -> None:
    store = BuildStore(db)
    actions = [ActionRecord("pl", 0, "shell", "host", {"shell": "x"}, job=n)
               for n in range(2)]
    build = await store.create("p", {"a": 1}, False, actions, T0,
                               [{"arch": "amd64"}, {"arch": "arm64"}], fail_fast=True)
    build = replace(build, jobs=[build.jobs[0],
                                 replace(build.jobs[1], state=BuildState.RUNNING, worker="w")])
    await store.save(build, ())
    back = await store.get(build.id)
    assert back is not None and back.fail_fast
    assert [(j.parameters, j.state, j.worker) for j in back.jobs] == [
        ({"arch": "amd64"}, BuildState.QUEUED, None), ({"arch": "arm64"},
                                                      BuildState.RUNNING, "w")]
    assert [a.job for a in back.actions] == [0, 1]
    assert back.job_parameters(1) == {"a": 1, "arch": "arm64"}
    listed = await store.list()
    assert [len(b.jobs) for b in listed] == [2]
