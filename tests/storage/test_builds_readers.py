"""ick/storage/builds.py, the builds repository: a build is written and read back whole (its
jobs and actions), a handler reads what it has just written, and a page's read of a build
does not wait for a transaction the writer holds open."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from ick.model import ActionRecord, ActionState, BuildState
from ick.storage.builds import BuildStore
from ick.storage.db import Tx
from ick.storage.sqlite import SqliteDatabase

T0 = "2024-01-01T00:00:00.000Z"
DEADLINE = 30.0  # a guard against hanging, not a measure


def actions() -> list[ActionRecord]:
    return [ActionRecord(pipeline="p", index=i, kind="shell", where="host",
                         spec={"shell": f"s{i}"}, job=job)
            for job in (0, 1) for i in range(2)]


async def test_a_saved_build_reads_back_whole_at_once(db: SqliteDatabase) -> None:
    builds = BuildStore(db)
    created = await builds.create("a", {"x": "1"}, True, actions(), T0,
                                  jobs=({"arch": "amd64"}, {"arch": "arm64"}))
    assert await builds.get(created.id) == created
    done = replace(created.actions[1], state=ActionState.FAILED, exit_code=2, duration=0.5,
                   message="no", details={"k": [1]})
    saved = replace(created, state=BuildState.FAILED, started_at=T0, finished_at=T0,
                    worker="w", actions=[created.actions[0], done, *created.actions[2:]],
                    jobs=[replace(j, state=BuildState.FAILED) for j in created.jobs])
    await builds.save(saved, [1])
    assert await builds.get(created.id) == saved  # read at once, on a reader: the write shows
    assert [b.id for b in await builds.in_state(BuildState.FAILED)] == [created.id]
    assert await builds.get(created.id + 1) is None


async def test_a_build_is_read_while_the_writer_holds_a_transaction_open(
        db: SqliteDatabase) -> None:
    builds = BuildStore(db)
    created = await builds.create("a", {}, False, actions(), T0)
    entered, release = asyncio.Event(), asyncio.Event()

    async def held(tx: Tx) -> None:
        await tx.execute("UPDATE builds SET state = 'running' WHERE id = ?", (created.id,))
        entered.set()
        await release.wait()

    writing = asyncio.ensure_future(db.write(held))
    try:
        async with asyncio.timeout(DEADLINE):
            await entered.wait()
            build = await builds.get(created.id)
            listed = await builds.list()
        assert build is not None and build.state == BuildState.QUEUED  # not committed yet
        assert [b.state for b in listed] == [BuildState.QUEUED]
    finally:
        release.set()
        await writing
    build = await builds.get(created.id)
    assert build is not None and build.state == BuildState.RUNNING
