"""A worker gives every action what caused its build and what it builds, from its work item:
ICK_EVENT, ICK_GIT_REF, ICK_GIT_BRANCH, ICK_GIT_TAG and ICK_GIT_COMMIT (empty when unknown),
here on the host, with a local worker in this process."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ick.daemon import Daemon
from ick.model import GitFacts, Project
from tests.pipelines import checked
from tests.services import in_process

SHOW = "for v in EVENT GIT_REF GIT_BRANCH GIT_TAG GIT_COMMIT; do eval echo \"$v=[\\$ICK_$v]\"; done"


async def ended(daemon: Daemon, *build_ids: int) -> bool:
    builds = [await daemon.builds.get(i) for i in build_ids]
    return all(b is not None and b.state.finished for b in builds)


async def test_a_host_action_sees_the_event_and_git_facts(tmp_path: Path) -> None:
    async with in_process(tmp_path / "state", workers=1) as daemon:
        await daemon.resources.put_pipeline(checked("p", [], [{"shell": SHOW, "where": "host"}]))
        await daemon.resources.put_project(Project("hello", {}, ["p"], tags=["v*"]))
        controller = daemon.controller
        tag = await controller.trigger(
            "hello", {"git_ref": "refs/tags/v1", "git_commit": "a" * 40}, ick_trigger="hook",
            git=GitFacts.of_ref("refs/tags/v1", "a" * 40, "release one", "A <a@example.org>"))
        manual = await controller.trigger("hello", {})
        async with asyncio.TaskGroup() as group:
            worker = group.create_task(daemon.workers[0].run())
            async with asyncio.timeout(60):
                while not await ended(daemon, tag.id, manual.id):
                    await asyncio.sleep(0.05)
            worker.cancel()
        logs = {i: daemon.logs.read(i, 0).decode() for i in (tag.id, manual.id)}
    assert (f"EVENT=[tag]\nGIT_REF=[refs/tags/v1]\nGIT_BRANCH=[]\nGIT_TAG=[v1]\n"
            f"GIT_COMMIT=[{'a' * 40}]\n") in logs[tag.id], logs[tag.id]
    assert ("EVENT=[manual]\nGIT_REF=[]\nGIT_BRANCH=[]\nGIT_TAG=[]\nGIT_COMMIT=[]\n"
            in logs[manual.id]), logs[manual.id]
