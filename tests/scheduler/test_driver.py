"""The controller's driver (ick/scheduler/driver.py) on real storage: what it persists, logs
and tells its listeners, and how its waits end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ick.model import Build, BuildState, Project
from ick.scheduler.driver import Controller
from ick.scheduler.machine import Outcome
from ick.storage.builds import BuildStore
from ick.storage.db import Database
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from tests.pipelines import checked


@dataclass
class Recorder:
    """A BuildListener that writes down what it is told."""

    events: list[tuple[str, int, str]] = field(default_factory=list)

    def build_started(self, build: Build) -> None:
        self.events.append(("started", build.id, build.state.value))

    def action_failed(self, build: Build) -> None:
        pass

    def build_finished(self, build: Build) -> None:
        self.events.append(("finished", build.id, build.state.value))


@dataclass
class World:
    controller: Controller
    builds: BuildStore
    logs: LogStore
    heard: Recorder


async def make_world(db: Database, logs_dir: Path) -> AsyncIterator[World]:
    resources = ResourceStore(db)
    await resources.put_pipeline(checked("p", [], [
        {"shell": "one", "where": "host"}, {"shell": "two", "where": "host"}]))
    await resources.put_project(Project("proj", {"x": 1}, ["p"]))
    builds = BuildStore(db)
    logs = LogStore(logs_dir)
    heard = Recorder()
    yield World(Controller(builds, resources, logs, listeners=[heard]), builds, logs, heard)
    logs.close_all()


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> AsyncIterator[World]:
    async for w in make_world(db, tmp_path / "state" / "logs"):
        yield w


async def test_a_build_through_the_driver(world: World) -> None:
    ctl = world.controller
    worker = await ctl.register("w")
    build = await ctl.trigger("proj", {"x": 2})
    assert (await world.builds.get(build.id)).state == BuildState.QUEUED  # type: ignore[union-attr]
    first = await ctl.next_work(worker, timeout=5)
    assert first is not None and (first.seq, first.total) == (0, 2)
    assert first.parameters == {"x": 2, "ick_trigger": "api", "ick_event": "manual"}
    assert world.heard.events == [("started", build.id, "running")]
    view = ctl.running_action(build.id)
    assert view is not None and (view.worker, view.seq, view.spec) == (
        worker, 0, {"shell": "one", "where": "host"})
    ctl.output(worker, build.id, 0, b"hello\n")
    ctl.output("someone-else", build.id, 0, b"not mine\n")
    assert await ctl.done(worker, build.id, 0, Outcome(0, 0.5))
    second = await ctl.next_work(worker, timeout=5)
    assert second is not None and second.seq == 1
    assert not await ctl.done(worker, build.id, 1, Outcome(3, 0.25, "exit status 3"))
    stored = await world.builds.get(build.id)
    assert stored is not None and stored.state == BuildState.FAILED
    assert [(a.state.value, a.exit_code, a.message) for a in stored.actions] == [
        ("succeeded", 0, None), ("failed", 3, "exit status 3")]
    assert world.heard.events[-1] == ("finished", build.id, "failed")
    assert ctl.running_action(build.id) is None and not ctl.busy()
    log = world.logs.path(build.id).read_text()
    assert log == (
        "==== [1/2] pipeline p, action 1: shell (where: host)\n"
        "hello\n"
        "---- exit code 0, 0.50 s\n"
        "==== [2/2] pipeline p, action 2: shell (where: host)\n"
        "ick: exit status 3\n"
        "---- exit code 3, 0.25 s\n"
        f"ick: build {build.id} failed\n"
    )


async def test_a_failed_log_write_fails_the_action_that_succeeded(
        db: Database, small_tmpfs: Callable[[str, str], Path]) -> None:
    logs_dir = small_tmpfs("logs", "64k")
    async for world in make_world(db, logs_dir):
        ctl = world.controller
        worker = await ctl.register("w")
        build = await ctl.trigger("proj", {})
        assert await ctl.next_work(worker, timeout=5) is not None
        ctl.output(worker, build.id, 0, b"x" * 200_000)  # more than the disk holds
        assert not await ctl.done(worker, build.id, 0, Outcome(0, 1.0))
        stored = await world.builds.get(build.id)
        assert stored is not None and stored.state == BuildState.FAILED
        assert stored.actions[0].message == "cannot write the build's log: no space left on device"
        assert stored.actions[1].state.value == "skipped"


async def test_shutdown_ends_a_long_poll_at_once_and_interrupts_running_builds(
        world: World) -> None:
    ctl = world.controller
    idle = await ctl.register("idle")
    busy = await ctl.register("busy")
    build = await ctl.trigger("proj", {})
    assert await ctl.next_work(busy, timeout=5) is not None  # the first worker asking gets it
    poll = asyncio.ensure_future(ctl.next_work(idle, timeout=30))
    cancel = asyncio.ensure_future(ctl.wait_cancel_for(busy, build.id, timeout=30))
    # Turns of the loop, no clock: each task runs (no I/O: nothing is queued) to where it
    # waits, the idle worker's inbox and the build's cancel event, which only shutdown fills.
    for _ in range(5):
        await asyncio.sleep(0)
    assert not poll.done() and not cancel.done()
    await ctl.shutdown()
    async with asyncio.timeout(2):
        assert await poll is None
        assert await cancel is True
    stored = await world.builds.get(build.id)
    assert stored is not None and stored.state == BuildState.INTERRUPTED
    assert stored.actions[0].message == "the daemon stopped"


async def test_wait_cancel_for_is_bounded_and_sees_a_cancel(world: World) -> None:
    ctl = world.controller
    worker = await ctl.register("w")
    build = await ctl.trigger("proj", {})
    assert await ctl.next_work(worker, timeout=5) is not None
    assert await ctl.wait_cancel_for(worker, build.id, timeout=0.05) is False
    waiting = asyncio.ensure_future(ctl.wait_cancel_for(worker, build.id, timeout=30))
    await ctl.cancel(build.id)
    async with asyncio.timeout(2):
        assert await waiting is True
    assert not await ctl.done(worker, build.id, 0, Outcome(None, 0.1, "cancelled"))
    stored = await world.builds.get(build.id)
    assert stored is not None and stored.state == BuildState.CANCELLED
    assert world.heard.events == [("started", build.id, "running"),
                                  ("finished", build.id, "cancelled")]


async def test_cancelling_a_queued_build_tells_the_listeners_it_finished(world: World) -> None:
    build = await world.controller.trigger("proj", {})  # no worker: it stays queued
    await world.controller.cancel(build.id)
    assert world.heard.events == [("finished", build.id, "cancelled")]
