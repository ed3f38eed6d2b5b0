"""The build page links each of the build's outputs (ick/ui/templates/build.html), and the
link's route /ui/builds/{id}/outputs/{path} serves it to a session that may see the build."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.daemon import Daemon
from ick.model import Project
from tests.pipelines import checked
from tests.ui.test_pages import admin, login

Client = TestClient[web.Request, web.Application]
DEB = bytes(range(256)) * 100


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
async def daemon(services: Daemon) -> Daemon:
    await services.resources.put_pipeline(checked("p", [], [{"shell": "true", "where": "host"}],
                                                   {"arch": "nosuch"}))
    for name in ("mine", "theirs"):
        await services.resources.put_project(Project(name, {}, ["p"]))
        await services.controller.trigger(name, {})  # builds 1 (mine) and 2 (theirs), queued
    await services.outputs.put(1, 0, "dist/hello 1.0.deb", chunks(DEB))
    await services.outputs.put(1, 0, "report<x>.xml", chunks(b"<ok/>"))
    await services.outputs.put(2, 0, "theirs.txt", chunks(b"theirs"))
    return services


@pytest.fixture
async def client(daemon: Daemon, aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_app(daemon))


async def test_the_build_page_links_each_output_for_download(client: Client,
                                                             daemon: Daemon) -> None:
    await login(client, admin(daemon))
    async with client.get("/ui/builds/1") as reply:
        html = await reply.text()
    section = html[html.index('id="outputs"'):]
    links = [unescape(href) for href in re.findall(r'<a href="([^"]+)"[^>]*download>',
                                                   section)]
    assert links == ["/ui/builds/1/outputs/dist/hello%201.0.deb",
                     "/ui/builds/1/outputs/report%3Cx%3E.xml"]
    assert "report&lt;x&gt;.xml</a>" in section
    async with client.get(links[0]) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Disposition"] == 'attachment; filename="hello_1.0.deb"'
        assert await reply.read() == DEB
    async with client.get(links[1]) as reply:
        assert await reply.read() == b"<ok/>"
    async with client.get("/ui/builds/1/outputs/nothing") as reply:
        assert reply.status == 404
    async with client.get("/ui/builds/2") as reply:
        assert "/ui/builds/2/outputs/theirs.txt" in await reply.text()


async def test_the_download_route_checks_the_session(client: Client, daemon: Daemon) -> None:
    path = "/ui/builds/1/outputs/dist/hello%201.0.deb"
    async with client.get(path, allow_redirects=False) as reply:
        assert reply.status == 303
        assert reply.headers["Location"].startswith("/ui/login?next=")
    token, _ = await daemon.tokens.create("bound", ["read"], projects=["mine"])
    await login(client, token)
    async with client.get(path) as reply:
        assert (reply.status, await reply.read()) == (200, DEB)
    async with client.get("/ui/builds/2/outputs/theirs.txt") as reply:
        assert reply.status == 404
        assert "no build 2" in await reply.text()
