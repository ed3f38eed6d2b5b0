"""The dispatcher tells its listeners of an action that failed while its build goes on (a
`status: failure` cleanup runs next), so notification point `action_failed` is sent as the
action fails, not when the build ends; and once, though the end decides it again."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ick.daemon import Daemon
from ick.model import Project
from tests.notify.test_outbox import running
from tests.notify_servers import HookSink
from tests.pipelines import checked
from tests.polling import apoll
from tests.services import in_process


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[Daemon]:
    """The daemon's services with one local worker and the outbox, running."""
    async with in_process(tmp_path / "state", workers=1) as services:
        task = asyncio.ensure_future(services.workers[0].run())
        try:
            async with running(services.outbox):
                yield services
        finally:
            await services.controller.shutdown()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_action_failed_is_sent_while_the_cleanup_still_runs(
        daemon: Daemon, tmp_path: Path) -> None:
    sink = HookSink()
    go = tmp_path / "go"
    # The cleanup waits (bounded) for the test to let it end: the build is running meanwhile.
    wait = f"for i in $(seq 600); do [ -e {shlex.quote(str(go))} ] && exit 0; sleep 0.1; done"
    try:
        await daemon.resources.put_pipeline(checked("build", [], [
            {"shell": "exit 3", "where": "host"},
            {"shell": wait + "; exit 1", "where": "host", "when": {"status": "failure"}},
        ]))
        await daemon.resources.put_project(Project("p", {}, ["build"], [
            {"webhook": sink.url, "on": ["action_failed", "ended"]}]))
        build = await daemon.controller.trigger("p", {})
        await asyncio.to_thread(sink.wait_count, 1)
        told = sink.items[0].doc
        assert (told["event"], told["state"]) == ("action_failed", "running")
        assert told["failed_action"]["index"] == 0
        running_now = await daemon.builds.get(build.id)
        assert running_now is not None and running_now.state.value == "running"
        go.touch()
        await asyncio.to_thread(sink.wait_count, 2)
        await apoll(lambda: daemon.builds.get(build.id),
                    lambda b: b is not None and b.state.finished, 30, lambda b: "still running")
        await daemon.outbox.drain()
        events = [n.event for n in await daemon.notifications.for_build(build.id)]
        assert sorted(events) == ["action_failed", "end"]
        assert [h.doc["event"] for h in sink.items] == ["action_failed", "end"]
    finally:
        sink.close()
