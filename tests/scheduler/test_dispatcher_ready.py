"""Dispatcher.done with `ready` (ick/scheduler/dispatcher.py): a worker that asks for more
work as soon as its job ends gets the next queued job in the same transition, the job's end
and the next one's start stored in one commit, the next action waiting in its inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ick.model import BuildState, Project
from ick.scheduler.buildlog import BuildLog
from ick.scheduler.dispatcher import Dispatcher
from ick.scheduler.machine import Outcome
from ick.scheduler.registry import WorkerRegistry
from ick.storage.builds import BuildStore
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from tests.databases import CountingDatabase
from tests.pipelines import checked


@dataclass
class Parts:
    db: CountingDatabase
    dispatcher: Dispatcher
    registry: WorkerRegistry
    worker: str
    builds: BuildStore


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    db = await CountingDatabase.open(tmp_path / "ick.db")
    logs = LogStore(tmp_path / "logs")
    try:
        resources = ResourceStore(db)
        await resources.put_pipeline(checked("p", [], [{"shell": "true", "where": "host"}]))
        await resources.put_project(Project("proj", {}, ["p"], concurrent=True))
        registry = WorkerRegistry()
        builds = BuildStore(db)
        dispatcher = Dispatcher(builds, resources, registry, BuildLog(logs))
        info = registry.add("w", {}, 1, None)
        await dispatcher.worker_added(info)
        assert await dispatcher.next_work(info.id, timeout=0) is None  # it waits for work
        yield Parts(db, dispatcher, registry, info.id, builds)
    finally:
        logs.close_all()
        await db.close()


@pytest.mark.parametrize("ready", [True, False])
async def test_a_ready_worker_s_next_job_starts_in_the_commit_of_the_end(
        parts: Parts, ready: bool) -> None:
    db, dispatcher, registry, worker = parts.db, parts.dispatcher, parts.registry, parts.worker
    first = await dispatcher.trigger("proj", {})
    second = await dispatcher.trigger("proj", {})  # no free worker: queued
    item = await dispatcher.next_work(worker, timeout=0)
    assert item is not None and item.build_id == first.id
    before = db.commits
    assert not await dispatcher.done(worker, first.id, 0, Outcome(0, 0.01), ready=ready)
    if ready:
        assert db.commits - before == 1  # the end and the next start, in one transaction
        assert not registry.inbox(worker).empty()
    else:
        assert registry.inbox(worker).empty()  # the worker asks, then it is given
    item = await dispatcher.next_work(worker, timeout=0)
    assert item is not None and item.build_id == second.id
    assert db.commits - before == (1 if ready else 2)
    stored = [await parts.builds.get(b.id) for b in (first, second)]
    assert [b.state if b else None for b in stored] == [BuildState.SUCCEEDED,
                                                        BuildState.RUNNING]
