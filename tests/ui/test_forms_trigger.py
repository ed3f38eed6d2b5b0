"""Build now (ick/ui/forms.py) with a session whose token has `trigger` and not `write`: the
form shows only what it may set, and refuses the rest as the API does (DESIGN.md, "What a
trigger may choose"); real app, real database."""

from __future__ import annotations

import re

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
    await services.resources.put_pipeline(checked("greet", ["greeting"],
                                                   [{"shell": "true", "where": "host"}],
                                                   {"arch": "nosuch"}))
    await services.resources.put_project(Project(
        "liw/site", {"greeting": "hi", "git_url": "/srv/site.git"}, ["greet"],
        trigger_parameters=["greeting"]))
    return services


@pytest.fixture
async def client(daemon: Daemon, aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_app(daemon))


def fields(html: str) -> list[str]:
    return re.findall(r'<input id="p-\d+" name="([^"]+)"', html)


async def test_build_now_shows_and_takes_only_what_a_trigger_token_may_set(
        client: Client, daemon: Daemon) -> None:
    token, _ = await daemon.tokens.create("ci", ["read", "trigger"])
    await login(client, token)
    async with client.get("/ui/projects/liw/site") as reply:
        html = await reply.text()
    assert fields(html) == ["greeting"]
    csrf = csrf_in(html)
    async with client.post("/ui/projects/liw/site/+build",
                           data={"_csrf": csrf, "git_url": "/tmp/evil"}) as reply:
        assert reply.status == 403
        assert ("token &#39;ci&#39; may not set parameter &#39;git_url&#39; of project "
                "&#39;liw/site&#39;") in await reply.text()
    assert await daemon.builds.list() == []
    async with client.post("/ui/projects/liw/site/+build", allow_redirects=False,
                           data={"_csrf": csrf, "greeting": "yo"}) as reply:
        assert (reply.status, reply.headers["Location"]) == (303, "/ui/builds/1")
    stored = await daemon.builds.get(1)
    assert stored is not None
    assert stored.parameters == {"greeting": "yo", "git_url": "/srv/site.git",
                                 "ick_trigger": "ui", "ick_event": "manual"}


async def test_a_write_session_sees_every_field(client: Client, daemon: Daemon) -> None:
    token, _ = await daemon.tokens.create("w", ["read", "trigger", "write"])
    await login(client, token)
    async with client.get("/ui/projects/liw/site") as reply:
        assert fields(await reply.text()) == ["greeting", "git_url"]
