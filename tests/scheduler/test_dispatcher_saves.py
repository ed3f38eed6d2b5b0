"""The dispatcher (ick/scheduler/dispatcher.py) while a Save is being written: its lock is
free meanwhile, and a Dispatch whose build ended in between is not handed out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from ick.model import Build, BuildState, Project
from ick.scheduler.buildlog import BuildLog
from ick.scheduler.dispatcher import Dispatcher
from ick.scheduler.registry import WorkerRegistry
from ick.scheduler.work import WorkItem
from ick.storage.builds import BuildStore, BuildWrite
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.storage.sqlite import SqliteDatabase
from tests.pipelines import checked


class GatedBuilds(BuildStore):
    """With `hold`, a Save first takes the database's writer, so its write (and any write
    after it) waits in the group commit's queue until the test lets the writer go."""

    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__(db)
        self.sqlite = db
        self.hold = False
        self.held = False  # this store holds the writer

    async def save_all(self, writes: Sequence[BuildWrite]) -> None:
        if self.hold and not self.held:
            await self.sqlite.lock.acquire()
            self.held = True
        await super().save_all(writes)

    def let_go(self) -> None:
        self.hold = self.held = False
        self.sqlite.lock.release()


@dataclass
class Started:
    builds: list[int]

    def build_started(self, build: Build) -> None:
        self.builds.append(build.id)

    def action_failed(self, build: Build) -> None:
        pass

    def build_finished(self, build: Build) -> None:
        pass


@dataclass
class World:
    dispatcher: Dispatcher
    registry: WorkerRegistry
    builds: GatedBuilds
    started: Started


@pytest.fixture
async def world(db: SqliteDatabase, tmp_path: Path) -> AsyncIterator[World]:
    logs = LogStore(tmp_path / "logs")
    try:
        resources = ResourceStore(db)
        await resources.put_pipeline(checked("p", [], [{"shell": "true", "where": "host"}]))
        await resources.put_project(Project("proj", {}, ["p"]))
        builds, registry, started = GatedBuilds(db), WorkerRegistry(), Started([])
        dispatcher = Dispatcher(builds, resources, registry, BuildLog(logs), [started])
        yield World(dispatcher, registry, builds, started)
    finally:
        logs.close_all()


async def held_save(world: World) -> tuple[str, asyncio.Task[WorkItem | None]]:
    """A build is queued with no worker; one comes and asks for work, and the machine gives
    it the build, whose Save (running) is held. (A build that starts as it is queued is
    saved with its creation, in one transaction: no Save of its own to hold.)"""
    await world.dispatcher.trigger("proj", {})
    world.builds.hold = True
    info = world.registry.add("w", {}, 1, None)
    await world.dispatcher.worker_added(info)
    asking = asyncio.ensure_future(world.dispatcher.next_work(info.id, timeout=0))
    async with asyncio.timeout(5):
        while not world.builds.held:  # the machine decided to run it: its Save waits
            await asyncio.sleep(0)
    return info.id, asking


async def test_other_transitions_go_on_while_a_save_is_written(world: World) -> None:
    _, asking = await held_save(world)
    # the dispatcher's lock is free: another worker registers meanwhile
    other = world.registry.add("w2", {}, 1, None)
    async with asyncio.timeout(5):
        await world.dispatcher.worker_added(other)
    assert not asking.done()
    world.builds.let_go()
    async with asyncio.timeout(5):
        item = await asking
    assert item is not None and item.build_id == 1
    stored = await world.builds.get(1)
    assert stored is not None and stored.state is BuildState.RUNNING
    assert world.started.builds == [1]


async def test_a_build_that_ends_while_its_save_is_written_is_not_handed_out(
        world: World) -> None:
    worker, asking = await held_save(world)
    removing = asyncio.ensure_future(world.dispatcher.worker_removed(worker, "it went away"))
    async with asyncio.timeout(5):
        while world.dispatcher.running_action(1) is not None:
            await asyncio.sleep(0)
    world.builds.let_go()
    async with asyncio.timeout(5):
        assert await asking is None
        await removing
    assert world.registry.inbox(worker).empty()  # nothing handed to the worker that went
    assert world.started.builds == []  # the build never started
    stored = await world.builds.get(1)
    assert stored is not None and stored.state is BuildState.INTERRUPTED
