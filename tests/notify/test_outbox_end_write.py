"""The outbox's writes on a build's path (ick/notify/outbox.py): the end is decided in the
transaction of the build's last Save, and a queue or start that tells no one writes nothing."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from ick.model import ActionRecord, ActionState, Build, BuildState
from ick.storage.sqlite import SqliteDatabase
from tests.notify.test_outbox import World, project, world  # noqa: F401


async def decided(world: World) -> list[tuple[int, str]]:  # noqa: F811
    rows = await world.db.fetchall("SELECT build_id, event FROM notify_decisions ORDER BY 1, 2")
    return [(int(r[0]), str(r[1])) for r in rows]


async def queued(world: World) -> Build:  # noqa: F811
    action = ActionRecord("p", 0, "shell", "host", {"shell": "false"})
    return await world.builds.create("hello", {}, False, [action], "2024-01-01T00:00:00.000Z")


def failed(build: Build) -> Build:
    return replace(build, state=BuildState.FAILED, finished_at="2024-01-01T00:00:03.000Z",
                   actions=[replace(build.actions[0], state=ActionState.FAILED)])


async def test_the_end_is_decided_by_the_save_of_the_end(world: World) -> None:  # noqa: F811
    await world.resources.put_project(project({"email": "dev@example.org"}))
    build = failed(await queued(world))
    outbox = world.outbox()
    await world.builds.save(build, (0,), also=[outbox.end_write(build)])
    assert await decided(world) == [(build.id, "action_failed"), (build.id, "end")]
    [sent] = await world.store.for_build(build.id)
    assert (sent.event, sent.target["email"]) == ("end", "dev@example.org")
    assert await world.store.undecided_ends() == []
    # Told of the end afterwards, the outbox decides nothing again.
    outbox.build_finished(build)
    await outbox.drain()
    assert len(await world.store.for_build(build.id)) == 1


async def test_a_save_that_fails_takes_its_decision_with_it(world: World) -> None:  # noqa: F811
    await world.resources.put_project(project({"email": "dev@example.org"}))
    build = failed(await queued(world))
    outbox = world.outbox()

    async def broken(tx: object) -> None:
        raise RuntimeError("the disk is gone")

    with pytest.raises(RuntimeError, match="the disk is gone"):
        await world.builds.save(build, (0,), also=[outbox.end_write(build), broken])
    assert await decided(world) == []
    assert await world.store.undecided_ends() == []  # it is still queued, as stored


async def test_a_queue_and_a_start_that_tell_no_one_write_nothing(
        world: World) -> None:  # noqa: F811
    await world.resources.put_project(project({"email": "dev@example.org"}))  # ends only
    build = await queued(world)
    outbox = world.outbox()
    outbox.build_queued(build)
    outbox.build_started(replace(build, state=BuildState.RUNNING))
    await outbox.drain()
    assert await decided(world) == []
    # An end is written even when it tells no one: a restart looks for undecided ends.
    await world.resources.put_project(project())
    outbox.build_finished(failed(build))
    await outbox.drain()
    assert await decided(world) == [(build.id, "end")]



async def test_ends_saved_together_are_each_others_previous_outcome(
        world: World) -> None:  # noqa: F811
    await world.resources.put_project(project({"email": "dev@example.org", "when": "change"}))
    outbox = world.outbox()
    first = await queued(world)
    first = replace(first, state=BuildState.SUCCEEDED, finished_at="2024-01-01T00:00:03.000Z",
                    actions=[replace(first.actions[0], state=ActionState.SUCCEEDED)])
    await world.builds.save(first, (0,), also=[outbox.end_write(first)])
    broken, fixed = failed(await queued(world)), await queued(world)
    fixed = replace(fixed, state=BuildState.SUCCEEDED, finished_at="2024-01-01T00:00:04.000Z",
                    actions=[replace(fixed.actions[0], state=ActionState.SUCCEEDED)])
    # Both ends wait for the writer, so they share one transaction (a group commit).
    db = world.db
    assert isinstance(db, SqliteDatabase)
    async with db.lock:
        saves = [asyncio.ensure_future(world.builds.save(b, (0,), also=[outbox.end_write(b)]))
                 for b in (broken, fixed)]
        await asyncio.sleep(0)
    await asyncio.gather(*saves)
    told = {b.id: [n.event for n in await world.store.for_build(b.id)]
            for b in (first, broken, fixed)}
    assert told == {first.id: [], broken.id: ["end"], fixed.id: ["end"]}
