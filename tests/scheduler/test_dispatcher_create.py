"""A build queued when a worker is free (ick/scheduler/dispatcher.py): its start is stored
in the transaction that creates it (one commit, not two); and a build whose creation cannot
be stored leaves nothing behind: no row, no log, and its worker takes the next build."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ick.model import Build, BuildState, Project
from ick.scheduler.buildlog import BuildLog
from ick.scheduler.dispatcher import Dispatcher
from ick.scheduler.registry import WorkerRegistry
from ick.storage.builds import BuildStore
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from tests.databases import CountingDatabase
from tests.pipelines import checked


@dataclass
class World:
    db: CountingDatabase
    dispatcher: Dispatcher
    registry: WorkerRegistry
    builds: BuildStore
    logs: LogStore
    refuse: list[bool]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    db = await CountingDatabase.open(tmp_path / "ick.db")
    logs = LogStore(tmp_path / "logs")
    refuse: list[bool] = []

    def queued(build: Build) -> None:  # a listener that fails while refuse says so
        if refuse:
            raise OSError(28, "No space left on device")

    try:
        resources = ResourceStore(db)
        await resources.put_pipeline(checked("p", [], [
            {"shell": "true", "where": "host"},
            {"shell": "true", "where": "host", "when": {"event": "tag"}},  # says it skipped
        ]))
        await resources.put_project(Project("proj", {}, ["p"]))
        builds, registry = BuildStore(db), WorkerRegistry()
        dispatcher = Dispatcher(builds, resources, registry, BuildLog(logs), [],
                                on_queued=[queued])
        info = registry.add("w", {}, 1, None)
        await dispatcher.worker_added(info)
        assert await dispatcher.next_work(info.id, timeout=0) is None  # it waits for work
        yield World(db, dispatcher, registry, builds, logs, refuse)
    finally:
        logs.close_all()
        await db.close()


async def test_a_build_that_starts_at_once_costs_one_commit(world: World) -> None:
    before = world.db.commits
    build = await world.dispatcher.trigger("proj", {})
    assert world.db.commits - before == 1
    stored = await world.builds.get(build.id)
    assert stored is not None and stored.state is BuildState.RUNNING
    assert stored.worker is not None and stored.worker.startswith("w")
    item = world.registry.inbox(stored.worker).get_nowait()
    assert item is not None and item.build_id == build.id


async def test_a_build_that_cannot_be_stored_leaves_nothing(world: World) -> None:
    world.refuse.append(True)
    with pytest.raises(OSError, match="No space left"):
        await world.dispatcher.trigger("proj", {})
    assert await world.builds.list() == []
    assert not world.dispatcher.running_action(1)
    assert not world.logs.path(1).exists()  # not even its skipped action's line
    world.refuse.clear()
    # the worker the machine had given it takes the next build (the id given out again)
    build = await world.dispatcher.trigger("proj", {})
    stored = await world.builds.get(build.id)
    assert stored is not None and stored.state is BuildState.RUNNING
    assert world.dispatcher.running_action(build.id) is not None
    assert world.logs.path(build.id).read_text().count("skipped") == 1


async def test_a_trigger_after_another_writer_made_builds_takes_the_next_id(
        world: World) -> None:
    first = await world.dispatcher.trigger("proj", {})
    other = await BuildStore(world.db).create("proj", {}, False, [], "2024-01-01T00:00:00.000Z")
    build = await world.dispatcher.trigger("proj", {})  # its store's guess was taken: again
    assert (first.id, other.id, build.id) == (1, 2, 3)
    assert (build.number, world.logs.path(2).exists()) == (3, False)
    stored = await world.builds.get(build.id)
    assert stored is not None and stored.number == 3
