"""BuildStore.create's `then` (ick/storage/builds.py): the states a build takes as it is
queued are stored in the transaction that inserts it, and `then` is asked once even when
the transaction runs twice (a group commit rolled back for another write's error)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest

from ick.model import ActionRecord, ActionState, Build, BuildState
from ick.storage.builds import BuildStore, BuildWrite
from ick.storage.db import Tx
from ick.storage.sqlite import SqliteDatabase

T0 = "2024-01-01T00:00:00.000Z"
ACTION = ActionRecord(pipeline="pl", index=0, kind="shell", where="host",
                      spec={"shell": "true"})


def started(asked: list[int]) -> Callable[[Build], list[BuildWrite]]:
    def then(build: Build) -> list[BuildWrite]:
        asked.append(build.id)
        running = replace(build, state=BuildState.RUNNING, worker="w", started_at=T0,
                          actions=(replace(ACTION, state=ActionState.RUNNING),))
        return [BuildWrite(running, (0,))]
    return then


async def test_the_states_it_takes_at_once_are_stored_with_it(db: SqliteDatabase) -> None:
    store, asked = BuildStore(db), []
    made = await store.create("p", {}, False, [ACTION], T0, then=started(asked))
    assert (made.state, asked) == (BuildState.QUEUED, [made.id])  # the build as inserted
    got = await store.get(made.id)
    assert got is not None
    assert (got.state, got.worker, got.started_at) == (BuildState.RUNNING, "w", T0)
    assert got.actions[0].state is ActionState.RUNNING


async def test_then_is_asked_once_when_its_group_is_rolled_back(db: SqliteDatabase) -> None:
    store, asked = BuildStore(db), []

    async def broken(tx: Tx) -> None:
        await tx.execute("INSERT INTO no_such_table VALUES (1)")

    async with db.lock:  # both writes queue up, to share the next group commit
        creating = asyncio.ensure_future(
            store.create("p", {}, False, [ACTION], T0, then=started(asked)))
        failing = asyncio.ensure_future(db.write(broken))
        async with asyncio.timeout(5):
            while len(db._queued) < 2:  # noqa: SLF001 (the group is what is tested)
                await asyncio.sleep(0)
    async with asyncio.timeout(5):
        made = await creating
        with pytest.raises(Exception, match="no_such_table"):
            await failing
    assert asked == [made.id]  # the group ran it, then it ran again alone: asked once
    got = await store.get(made.id)
    assert got is not None and got.state is BuildState.RUNNING
    assert [b.id for b in await store.list()] == [made.id]
