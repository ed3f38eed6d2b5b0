"""The pages (ick/ui/pages.py, live.py, forms.py, badges.py) with a session whose token is
bound to projects: another project, or a build of one, is 404 as if it did not exist; pages
that are no project's are 403; the dashboard shows only its projects."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.daemon import Daemon
from ick.model import Project
from tests.pipelines import checked
from tests.ui.test_pages import csrf_in, login

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def daemon(services: Daemon) -> Daemon:
    await services.resources.put_pipeline(checked("p", [], [{"shell": "true", "where": "host"}],
                                                   {"arch": "nosuch"}))
    for name in ("mine", "theirs"):
        await services.resources.put_project(Project(name, {}, ["p"]))
        await services.controller.trigger(name, {})  # builds 1 (mine) and 2 (theirs), queued
    return services


@pytest.fixture
async def client(daemon: Daemon, aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_app(daemon))


async def test_a_bound_session_sees_only_its_projects(client: Client, daemon: Daemon) -> None:
    token, _ = await daemon.tokens.create("bound", ["read", "trigger", "write"],
                                          projects=["mine"])
    await login(client, token)
    for path in ("/ui/", "/ui/projects/mine", "/ui/builds/1", "/ui/builds/1/log.txt"):
        async with client.get(path) as reply:
            assert reply.status == 200, path
    async with client.get("/ui/") as reply:
        html = await reply.text()
        assert "mine" in html and "theirs" not in html
    for path, missing in (("/ui/projects/theirs", "no project &#39;theirs&#39;"),
                          ("/ui/builds/2", "no build 2"), ("/ui/builds/2/log.txt", "no build 2"),
                          ("/ui/builds/2/events", "no build 2")):
        async with client.get(path) as reply:
            assert (reply.status, missing in await reply.text()) == (404, True), path
    for path in ("/ui/artifacts", "/ui/workers"):
        async with client.get(path) as reply:
            assert reply.status == 403, path
    async with client.get("/badges/theirs.svg") as reply:
        assert "build: unknown" in await reply.text()
    async with client.get("/badges/mine.svg") as reply:
        assert "build: none" in await reply.text()
    async with client.get("/ui/projects/mine") as reply:
        csrf = csrf_in(await reply.text())
    for path in ("/ui/projects/theirs/+build", "/ui/builds/2/+cancel", "/ui/builds/2/+rebuild"):
        async with client.post(path, data={"_csrf": csrf}) as reply:
            assert reply.status == 404, path
    assert [b.id for b in await daemon.builds.list()] == [2, 1]
    assert [b.state.value for b in await daemon.builds.list()] == ["queued", "queued"]
