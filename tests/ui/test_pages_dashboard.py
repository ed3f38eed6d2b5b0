"""The dashboard over HTTP: a project's row shows its last build that was not cancelled
(cancelling a queued duplicate showed hello as "#9 cancelled")."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.model import BuildState, Pipeline, Project
from tests.services import in_process
from tests.ui.test_pages import admin, login


async def test_the_dashboard_skips_a_cancelled_build(tmp_path: Path,
                                                     aiohttp_client: AiohttpClient) -> None:
    async with in_process(tmp_path / "s") as daemon:
        await daemon.resources.put_pipeline(Pipeline("p", [], [{"shell": "true"}]))
        await daemon.resources.put_project(Project("hello", {}, ["p"]))
        for state in (BuildState.SUCCEEDED, BuildState.CANCELLED):
            build = await daemon.builds.create("hello", {}, False, [], "2024-01-01T00:00:00Z")
            await daemon.builds.save(replace(build, state=state,
                                             finished_at="2024-01-01T00:00:01Z"))
        client = await aiohttp_client(make_app(daemon))
        await login(client, admin(daemon))
        async with client.get("/ui/") as reply:
            html = await reply.text()
        row = re.search(r'<tr class="row-(\w+)" data-project="hello">(.*?)</tr>', html, re.S)
        assert row is not None, html
        assert row[1] == "succeeded"
        assert "#1" in row[2] and "#2" not in row[2]
