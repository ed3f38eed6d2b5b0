"""What the coordinator tells the rest of the daemon: notification points `approval` (one
waits) and `deployment` (one ended), one message per rule and event; retention keeps the
builds live somewhere with their outputs; a deployment's run queues no `triggers:` builds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ick.daemon import Daemon
from ick.model import Build, Project
from tests.notify_servers import HookSink
from tests.pipelines import checked
from tests.polling import apoll
from tests.services import in_process


@pytest.fixture
def sink() -> Iterator[HookSink]:
    hooks = HookSink()
    yield hooks
    hooks.close()


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Daemon]:
    async with (in_process(tmp_path / "state", workers=1) as daemon,
                asyncio.TaskGroup() as group):
        tasks = [group.create_task(daemon.workers[0].run()),
                 group.create_task(daemon.deployments.run()),
                 group.create_task(daemon.outbox.run_forever()),
                 group.create_task(daemon.upkeep.downstream.run(daemon.upkeep.trigger))]
        yield daemon
        for task in tasks:
            task.cancel()


async def setup(svc: Daemon, notify: list[dict[str, object]]) -> None:
    await svc.resources.put_pipeline(checked("make", [], [
        {"shell": "echo made > out.txt", "where": "host", "outputs": ["out.txt"]}]))
    await svc.resources.put_pipeline(checked("ship", [], [
        {"shell": "grep -q made out.txt", "where": "host"}]))
    await svc.resources.put_project(Project("next", {}, ["make"]))
    await svc.resources.put_project(Project(
        "site", {}, ["make"], notify=notify, keep_builds=1, triggers=["next"],
        environments=[{"environment": "production", "pipelines": ["ship"],
                       "approval": True}]))


async def ended(svc: Daemon, build_id: int) -> Build:
    async def get() -> Build | None:
        return await svc.builds.get(build_id)

    found = await apoll(get, lambda b: b is not None and b.state.finished, 60, str)
    assert found is not None
    return found


async def test_approval_and_deployment_points_reach_a_webhook(svc: Daemon,
                                                              sink: HookSink) -> None:
    await setup(svc, [{"webhook": sink.url, "when": "always",
                       "on": ["deployment", "approval"]},
                      {"webhook": sink.url + "/again", "when": "failure",
                       "on": ["deployment"]}])
    build = await ended(svc, (await svc.controller.trigger("site", {})).id)
    waiting = await svc.deployments.deploy("site", "production", build.id, "alice")
    await asyncio.to_thread(sink.wait, lambda hooks: len(hooks) >= 1, "approval")
    approval = sink.items[0]
    assert approval.headers["X-Ick-Event"] == "approval"
    assert approval.doc["deployment"]["id"] == waiting.id
    assert (approval.doc["environment"], approval.doc["build"], approval.doc["state"]) == (
        "production", build.id, "waiting")
    assert approval.doc["url"].endswith("/ui/projects/site/environments/production")
    await svc.deployments.approve(waiting.id, "bob")
    await asyncio.to_thread(sink.wait, lambda hooks: len(hooks) >= 2, "deployment")
    done = sink.items[1]
    assert done.headers["X-Ick-Event"] == "deployment"
    assert (done.doc["state"], done.doc["deployment"]["approved_by"]) == ("succeeded", "bob")
    assert done.path == "/"  # the `when: failure` rule heard nothing of a success
    rejected = await svc.deployments.deploy("site", "production", build.id, "alice")
    await svc.deployments.reject(rejected.id, "bob")
    await asyncio.to_thread(sink.wait, lambda hooks: len(hooks) >= 5, "rejection")
    assert sorted((h.path, h.doc["event"], h.doc["state"]) for h in sink.items[2:]) == [
        ("/", "approval", "waiting"), ("/", "deployment", "rejected"),
        ("/again", "deployment", "rejected")]


async def test_retention_keeps_the_live_build_and_runs_queue_no_triggers(svc: Daemon) -> None:
    await setup(svc, [])
    live = await ended(svc, (await svc.controller.trigger("site", {})).id)
    waiting = await svc.deployments.deploy("site", "production", live.id, "alice")
    await svc.deployments.approve(waiting.id, "bob")
    done = await apoll(lambda: svc.deployments.get(waiting.id), lambda d: d.state.finished,
                       60, str)
    assert done.state.value == "succeeded"
    for _ in range(2):
        await ended(svc, (await svc.controller.trigger("site", {})).id)
    await apoll(lambda: asyncio.sleep(0, svc.deployments.pending() + svc.upkeep.downstream
                                      .pending()), lambda n: n == 0, 30, str)
    await svc.upkeep.pruner.prune()
    assert await svc.builds.get(live.id) is not None
    assert [o.path for o in await svc.outputs.list(live.id)] == ["out.txt"]
    # the project's own builds each queued one of `next`; the run queued none
    assert len(await svc.builds.list("next")) == 3
