"""The build store (ick/storage/builds.py) on a real SQLite file: numbering, saving, queries."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ick.model import ActionRecord, ActionState, BuildState
from ick.storage.builds import BuildStore
from ick.storage.db import Database
from tests.databases import opened

T0 = "2024-01-01T00:00:00.000Z"


T1 = "2024-01-01T00:00:01.000Z"


def actions(n: int) -> list[ActionRecord]:
    return [
        ActionRecord(pipeline="pl", index=i, kind="shell", where="host", spec={"shell": f"s{i}"})
        for i in range(n)
    ]


async def test_builds_are_numbered_per_project_and_identified_globally(db: Database) -> None:
    store = BuildStore(db)
    made = [await store.create(p, {}, False, [], T0) for p in ("a", "a", "b", "a")]
    assert [(b.project, b.number) for b in made] == [("a", 1), ("a", 2), ("b", 1), ("a", 3)]
    assert [b.id for b in made] == [1, 2, 3, 4]
    assert all(b.state == BuildState.QUEUED for b in made)


async def test_create_stores_the_build_with_pending_actions(db: Database) -> None:
    store = BuildStore(db)
    made = await store.create("a", {"x": [1, {"y": None}]}, True, actions(2), T0)
    got = await store.get(made.id)
    assert got is not None
    assert (got.project, got.number, got.state, got.parameters, got.concurrent, got.queued_at) == (
        "a", 1, BuildState.QUEUED, {"x": [1, {"y": None}]}, True, T0)
    assert (got.started_at, got.finished_at, got.worker) == (None, None, None)
    assert [(a.pipeline, a.index, a.kind, a.where, a.spec, a.state) for a in got.actions] == [
        ("pl", 0, "shell", "host", {"shell": "s0"}, ActionState.PENDING),
        ("pl", 1, "shell", "host", {"shell": "s1"}, ActionState.PENDING),
    ]
    assert await store.get(made.id + 1) is None
    assert await store.exists(made.id)
    assert not await store.exists(made.id + 1)


async def test_save_persists_the_build_and_only_the_given_actions(db_path: Path) -> None:
    async with opened(db_path) as db:
        store = BuildStore(db)
        build = await store.create("a", {}, False, actions(3), T0)
        first, second, third = build.actions
        build = replace(
            build, state=BuildState.FAILED, started_at=T0, finished_at=T1, worker="local0-ab12",
            actions=[
                replace(first, state=ActionState.SUCCEEDED, exit_code=0, duration=0.5,
                        details={"git": [{"commit": "abc"}]}),
                replace(second, state=ActionState.FAILED, exit_code=2, message="exit status 2"),
                replace(third, state=ActionState.SKIPPED),  # changed in memory, not saved
            ])
        await store.save(build, (0, 1))

    async with opened(db_path) as db:
        got = await BuildStore(db).get(build.id)
    assert got is not None
    assert (got.state, got.started_at, got.finished_at, got.worker) == (
        BuildState.FAILED, T0, T1, "local0-ab12")
    assert [(a.state, a.exit_code, a.duration, a.message, a.details) for a in got.actions] == [
        (ActionState.SUCCEEDED, 0, 0.5, None, {"git": [{"commit": "abc"}]}),
        (ActionState.FAILED, 2, None, "exit status 2", {}),
        (ActionState.PENDING, None, None, None, {}),
    ]


async def test_in_state_gives_oldest_first_with_actions(db: Database) -> None:
    store = BuildStore(db)
    b1 = await store.create("a", {}, False, actions(1), T0)
    b2 = await store.create("b", {}, False, actions(2), T0)
    b3 = await store.create("a", {}, False, [], T0)
    await store.save(replace(b2, state=BuildState.RUNNING))
    queued = await store.in_state(BuildState.QUEUED)
    assert [b.id for b in queued] == [b1.id, b3.id]
    assert [len(b.actions) for b in queued] == [1, 0]
    running = await store.in_state(BuildState.RUNNING)
    assert [(b.id, len(b.actions)) for b in running] == [(b2.id, 2)]
    assert await store.in_state(BuildState.FAILED) == []


async def test_list_gives_newest_first_up_to_the_limit(db: Database) -> None:
    store = BuildStore(db)
    for project in ("a", "b", "a", "a", "b"):
        await store.create(project, {}, False, actions(1), T0)
    assert [b.id for b in await store.list()] == [5, 4, 3, 2, 1]
    assert [b.id for b in await store.list(limit=2)] == [5, 4]
    assert [(b.id, b.number) for b in await store.list("a")] == [(4, 3), (3, 2), (1, 1)]
    assert [b.id for b in await store.list("a", limit=1)] == [4]
    assert await store.list("nobody") == []
    assert all(b.actions == () for b in await store.list())  # listings leave actions out


async def test_previous_outcome_is_the_last_finished_build_of_the_same_project(
    db: Database,
) -> None:
    store = BuildStore(db)
    states = [BuildState.FAILED, BuildState.SUCCEEDED, BuildState.RUNNING, BuildState.QUEUED]
    made = []
    for state in states:
        build = await store.create("a", {}, False, [], T0)
        build = replace(build, state=state)
        await store.save(build)
        made.append(build)
        other = await store.create("b", {}, False, [], T0)  # interleaved, never counts
        await store.save(replace(other, state=BuildState.CANCELLED))
    later = await store.create("a", {}, False, [], T0)
    assert await store.previous_outcome("a", made[0].id) is None
    assert await store.previous_outcome("a", made[1].id) == BuildState.FAILED
    # running and queued builds have no outcome yet: skipped over
    assert await store.previous_outcome("a", later.id) == BuildState.SUCCEEDED
    assert await store.previous_outcome("c", later.id) is None
