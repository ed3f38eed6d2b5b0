"""`/badges/{project}.svg` over HTTP: a cancelled build does not colour the badge."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.model import BuildState, Pipeline, Project
from tests.services import in_process


async def test_the_badge_shows_the_last_build_that_was_not_cancelled(
        tmp_path: Path, aiohttp_client: AiohttpClient) -> None:
    async with in_process(tmp_path / "s", public_badges=True) as daemon:
        await daemon.resources.put_pipeline(Pipeline("p", [], [{"shell": "true"}]))
        await daemon.resources.put_project(Project("hello", {}, ["p"]))
        for state in (BuildState.FAILED, BuildState.CANCELLED):
            build = await daemon.builds.create("hello", {}, False, [], "2024-01-01T00:00:00Z")
            await daemon.builds.save(replace(build, state=state,
                                             finished_at="2024-01-01T00:00:01Z"))
        client = await aiohttp_client(make_app(daemon))
        async with client.get("/badges/hello.svg") as reply:
            assert reply.status == 200
            assert "build: failed" in await reply.text()
