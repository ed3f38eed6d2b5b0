"""The dispatcher (ick/scheduler/dispatcher.py) on real storage: what listeners and callers
are given are snapshots, which nobody can change and which the machine never changes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ick.model import Build, BuildState, Project
from ick.scheduler.buildlog import BuildLog
from ick.scheduler.dispatcher import Dispatcher
from ick.scheduler.machine import Outcome
from ick.scheduler.registry import WorkerRegistry
from ick.storage.builds import BuildStore
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.storage.sqlite import SqliteDatabase
from tests.pipelines import checked


@dataclass
class Meddler:
    """A listener that keeps what it is given and tries to change it."""

    kept: list[Build] = field(default_factory=list)
    refused: int = 0

    def _meddle(self, build: Build) -> None:
        self.kept.append(build)
        for change in (lambda: setattr(build, "state", BuildState.SUCCEEDED),
                       lambda: setattr(build.actions[0], "exit_code", 0),
                       lambda: setattr(build.jobs[0], "worker", "me")):
            try:
                change()
            except dataclasses.FrozenInstanceError:
                self.refused += 1

    def build_started(self, build: Build) -> None:
        self._meddle(build)

    def action_failed(self, build: Build) -> None:
        pass

    def build_finished(self, build: Build) -> None:
        self._meddle(build)


@dataclass
class World:
    dispatcher: Dispatcher
    registry: WorkerRegistry
    builds: BuildStore
    meddler: Meddler


@pytest.fixture
async def world(db: SqliteDatabase, tmp_path: Path) -> AsyncIterator[World]:
    logs = LogStore(tmp_path / "logs")
    try:
        resources = ResourceStore(db)
        await resources.put_pipeline(checked("p", [], [
            {"shell": "one", "where": "host"}, {"shell": "two", "where": "host"}]))
        await resources.put_project(Project("proj", {}, ["p"]))
        builds, registry, meddler = BuildStore(db), WorkerRegistry(), Meddler()
        dispatcher = Dispatcher(builds, resources, registry, BuildLog(logs), [meddler])
        yield World(dispatcher, registry, builds, meddler)
    finally:
        logs.close_all()


async def worker(world: World) -> str:
    info = world.registry.add("w", {}, 1, None)
    await world.dispatcher.worker_added(info)
    return info.id


async def test_a_listener_can_neither_change_what_the_machine_holds_nor_see_it_change(
        world: World) -> None:
    d = world.dispatcher
    w = await worker(world)
    queued = await d.trigger("proj", {})
    assert await d.next_work(w, timeout=5) is not None
    assert world.meddler.refused == 3
    [started] = world.meddler.kept
    assert started.state is BuildState.RUNNING
    assert await d.done(w, queued.id, 0, Outcome(0, 0.1))
    assert await d.next_work(w, timeout=5) is not None
    assert not await d.done(w, queued.id, 1, Outcome(1, 0.1))
    assert world.meddler.refused == 6
    # what the listener kept of the start is as it was; the end is a snapshot of its own
    assert started.state is BuildState.RUNNING and started.actions[0].exit_code is None
    finished = world.meddler.kept[-1]
    assert finished.state is BuildState.FAILED
    assert [a.exit_code for a in finished.actions] == [0, 1]
    stored = await world.builds.get(queued.id)
    assert stored == finished
    assert queued.state is BuildState.QUEUED  # what trigger answered is unchanged too


async def test_a_wait_for_a_cancel_ends_when_the_job_ends_without_one(world: World) -> None:
    d = world.dispatcher
    w = await worker(world)
    build = await d.trigger("proj", {})
    assert await d.next_work(w, timeout=5) is not None
    waiting = asyncio.ensure_future(d.wait_cancel_for(build.id, 30, 0))
    await asyncio.sleep(0)  # one turn of the loop: it looks, and waits
    assert await d.done(w, build.id, 0, Outcome(0, 0.1))
    assert not waiting.done()  # the job goes on with its next action
    assert not await d.done(w, build.id, 1, Outcome(0, 0.1))
    async with asyncio.timeout(5):
        assert await waiting is True


async def test_a_cancel_is_kept_by_the_machine_alone(world: World) -> None:
    d = world.dispatcher
    w = await worker(world)
    build = await d.trigger("proj", {})
    assert await d.next_work(w, timeout=5) is not None
    assert await d.wait_cancel_for(build.id, 0, 0) is False
    await d.cancel(build.id)
    assert await d.wait_cancel_for(build.id, 0, 0) is True
    assert not await d.done(w, build.id, 0, Outcome(None, 0.1, "cancelled"))
    stored = await world.builds.get(build.id)
    assert stored is not None and stored.state is BuildState.CANCELLED


# A local worker's watch for a cancel (watch_cancel): a callback, not a task per action. It
# fires once its job is to stop, never after the watch ended; other builds leave it be.

async def turn() -> None:
    """Let callbacks the loop has been asked to call soon run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_watch_fires_once_its_build_is_cancelled(world: World) -> None:
    d = world.dispatcher
    w = await worker(world)
    build = await d.trigger("proj", {})
    other = await d.trigger("proj", {})  # queued behind it
    assert await d.next_work(w, timeout=5) is not None
    fired: list[str] = []
    d.watch_cancel(build.id, 0, lambda: fired.append("stop"))
    await d.cancel(other.id)  # another build's transition
    await turn()
    assert fired == []
    await d.cancel(build.id)
    await turn()
    assert fired == ["stop"]
    await d.cancel(build.id)  # told once
    await turn()
    assert fired == ["stop"]


async def test_a_watch_fires_when_its_job_ends_without_a_cancel(world: World) -> None:
    d = world.dispatcher
    w = await worker(world)
    build = await d.trigger("proj", {})
    assert await d.next_work(w, timeout=5) is not None
    fired: list[int] = []
    d.watch_cancel(build.id, 0, lambda: fired.append(0))
    assert await d.done(w, build.id, 0, Outcome(0, 0.1))  # the job goes on
    await turn()
    assert fired == []
    assert not await d.done(w, build.id, 1, Outcome(0, 0.1))
    await turn()
    assert fired == [0]


async def test_an_ended_watch_is_never_called(world: World) -> None:
    d = world.dispatcher
    w = await worker(world)
    build = await d.trigger("proj", {})
    assert await d.next_work(w, timeout=5) is not None
    fired: list[str] = []
    unwatch = d.watch_cancel(build.id, 0, lambda: fired.append("early"))
    unwatch()
    late = d.watch_cancel(build.id, 0, lambda: fired.append("late"))
    await d.cancel(build.id)  # due now, called soon: ended before the loop gets to it
    late()
    await turn()
    assert fired == []
    # a watch of an action told to stop already fires at once, unless it ends first
    d.watch_cancel(build.id, 0, lambda: fired.append("told"))
    d.watch_cancel(build.id, 0, lambda: fired.append("never"))()
    await turn()
    assert fired == ["told"]
    assert not await d.done(w, build.id, 0, Outcome(None, 0.1, "cancelled"))
    d.watch_cancel(build.id, 0, lambda: fired.append("gone"))  # no longer running
    await turn()
    assert fired == ["told", "gone"]
