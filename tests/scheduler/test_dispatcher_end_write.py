"""The dispatcher's end writes (ick/scheduler/dispatcher.py `on_end`): what a build's end
brings (the outbox's decision of who is told) is written in the transaction of its last Save,
and only of that one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from ick.model import Build, Project
from ick.scheduler.buildlog import BuildLog
from ick.scheduler.dispatcher import Dispatcher
from ick.scheduler.machine import Outcome
from ick.scheduler.registry import WorkerRegistry
from ick.storage.builds import BuildStore
from ick.storage.db import Tx
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.storage.sqlite import SqliteDatabase
from tests.pipelines import checked


async def test_the_end_write_joins_the_last_save_only(db: SqliteDatabase,
                                                       tmp_path: Path) -> None:
    seen: list[tuple[int, str, str]] = []  # (build, state saved, state its write read)

    def on_end(build: Build) -> Callable[[Tx], Awaitable[object]]:
        async def write(tx: Tx) -> None:
            row = await tx.fetchone("SELECT state FROM builds WHERE id = ?", (build.id,))
            assert row is not None
            seen.append((build.id, build.state.value, str(row[0])))

        return write

    logs = LogStore(tmp_path / "logs")
    try:
        resources = ResourceStore(db)
        await resources.put_pipeline(checked("p", [], [{"shell": "true", "where": "host"},
                                                       {"shell": "true", "where": "host"}]))
        await resources.put_project(Project("proj", {}, ["p"]))
        registry = WorkerRegistry()
        dispatcher = Dispatcher(BuildStore(db), resources, registry, BuildLog(logs),
                                on_end=[on_end])
        info = registry.add("w", {}, 1, None)
        await dispatcher.worker_added(info)
        assert await dispatcher.next_work(info.id, timeout=0) is None  # it is ready
        build = await dispatcher.trigger("proj", {})
        for seq in (0, 1):
            item = await dispatcher.next_work(info.id, timeout=5)
            assert item is not None and item.seq == seq
            assert seen == []  # not while it runs
            await dispatcher.done(info.id, build.id, seq, Outcome(0, 0.1))
        # Its write ran inside the Save's transaction: it read the end being saved.
        assert seen == [(build.id, "succeeded", "succeeded")]
    finally:
        logs.close_all()
