"""`when:` through the real controller (ick/scheduler/driver.py) and a local worker running
real host actions: after a failure only the `status: failure` actions run (a cleanup writes its
file; a default action is skipped) and the build stays failed; what plan time skips is
stored skipped, with its message, and a build that runs nothing needs no worker."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shlex
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ick.daemon import Daemon
from ick.model import Build, Project
from tests.pipelines import checked
from tests.polling import apoll
from tests.services import in_process


def write(name: str, when: dict[str, Any] | None = None,
          out: Path = Path("/nonexistent")) -> dict[str, Any]:
    """A host shell action that writes file NAME into folder `out`."""
    action: dict[str, Any] = {"shell": f"echo {name} > {shlex.quote(str(out / name))}",
                              "where": "host"}
    return {**action, "when": when} if when is not None else action


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[Daemon]:
    """The daemon's services with one local worker, running."""
    async with in_process(tmp_path / "state", workers=1) as services:
        task = asyncio.ensure_future(services.workers[0].run())
        try:
            yield services
        finally:
            await services.controller.shutdown()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def finished(daemon: Daemon, build_id: int) -> Build:
    async def fetch() -> Build:
        build = await daemon.builds.get(build_id)
        assert build is not None
        return build
    return await apoll(fetch, lambda b: b.state.finished, 60,
                       lambda b: f"build {build_id} still {b.state.value}")


async def test_a_failure_runs_the_cleanup_skips_the_rest_and_the_build_stays_failed(
        daemon: Daemon, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    await daemon.resources.put_pipeline(checked("build", [], [
        write("first", out=out),
        {"shell": "exit 3", "where": "host"},
        write("after", None, out),
        write("cleanup", {"status": "failure"}, out),
        write("always", {"status": ["success", "failure"], "event": "manual"}, out),
        write("main-only", {"status": "failure", "branch": "main"}, out),
    ]))
    await daemon.resources.put_project(Project("p", {}, ["build"]))
    build = await daemon.controller.trigger("p", {})
    done = await finished(daemon, build.id)
    assert done.state.value == "failed"
    assert [(a.state.value, a.message) for a in done.actions] == [
        ("succeeded", None),
        ("failed", "exit status 3"),
        ("skipped", "when: status is failure, not success"),
        ("succeeded", None),
        ("succeeded", None),
        ("skipped", "when: branch is none, not 'main'"),
    ]
    assert sorted(p.name for p in out.iterdir()) == ["always", "cleanup", "first"]
    assert (out / "cleanup").read_text() == "cleanup\n"
    log = b"".join([chunk async for chunk in daemon.logs.whole(done, 0)]).decode()
    # each footer without its duration
    assert [re.sub(r", [0-9.]+ s$", "", line) for line in log.splitlines()] == [
        "ick: pipeline build, action 6 skipped: when: branch is none, not 'main'",
        "==== [1/6] pipeline build, action 1: shell (where: host)",
        "---- exit code 0",
        "==== [2/6] pipeline build, action 2: shell (where: host)",
        "ick: exit status 3",
        "---- exit code 3",
        "ick: pipeline build, action 3 skipped: when: status is failure, not success",
        "==== [4/6] pipeline build, action 4: shell (where: host)",
        "---- exit code 0",
        "==== [5/6] pipeline build, action 5: shell (where: host)",
        "---- exit code 0",
        "ick: build 1 failed",
    ]


async def test_a_build_that_runs_nothing_succeeds_without_a_worker(tmp_path: Path) -> None:
    async with in_process(tmp_path / "state", workers=0) as daemon:
        await daemon.resources.put_pipeline(checked("publish", [], [
            write("x", {"event": "push"}), write("y", {"status": "failure"})]))
        await daemon.resources.put_project(Project(
            "p", {}, [{"pipeline": "publish", "when": {"tag": "v*"}}]))
        build = await daemon.controller.trigger("p", {})
        done = await daemon.builds.get(build.id)
        assert done is not None
        assert (done.state.value, done.worker) == ("succeeded", None)
        assert [(a.state.value, a.message) for a in done.actions] == [
            ("skipped", "when: tag is none, not 'v*'"),
            ("skipped", "when: tag is none, not 'v*'"),
        ]


async def test_the_controller_plans_with_the_trigger_s_event_ref_and_parameters(
        tmp_path: Path) -> None:
    async with in_process(tmp_path / "state", workers=0) as daemon:
        await daemon.resources.put_pipeline(checked("all", [], [
            write("push", {"event": "push"}),
            write("main", {"branch": "main"}),
            write("release", {"event": "tag", "tag": "v*"}),
            write("fast", {"parameters": {"mode": ["fast", "quick"]}}),
        ]))
        await daemon.resources.put_project(Project(
            "p", {"mode": "slow"}, ["all"], trigger_parameters=["mode"], tags=["v*"]))

        async def skipped(overrides: dict[str, Any], trigger: str) -> list[str | None]:
            build = await daemon.controller.trigger("p", overrides, ick_trigger=trigger)
            return [a.message for a in build.actions]

        commit = "a" * 40
        assert await skipped({"git_ref": "refs/tags/v1.0", "git_commit": commit}, "hook") == [
            "when: event is 'tag', not 'push'", "when: branch is none, not 'main'", None,
            "when: parameter 'mode' is 'slow', not one of 'fast', 'quick'"]
        assert await skipped({"git_ref": "refs/heads/main", "git_commit": commit,
                              "mode": "quick"}, "hook") == [
            None, None, "when: event is 'push', not 'tag'", None]
        assert await skipped({}, "api") == [
            "when: event is 'manual', not 'push'", "when: branch is none, not 'main'",
            "when: event is 'manual', not 'tag'",
            "when: parameter 'mode' is 'slow', not one of 'fast', 'quick'"]
