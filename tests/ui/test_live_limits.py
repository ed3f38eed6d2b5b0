"""ick/ui/live.py in the daemon's process: a stream of a build that stays queued looks at
the build once, not every half second, and it does not outlive its limit."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientTimeout, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.daemon import Daemon
from ick.ui import live
from tests.services import admin_token, queue_one_build

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def daemon(services: Daemon) -> Daemon:
    await queue_one_build(services)
    return services


@pytest.fixture
async def client(daemon: Daemon, aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_app(daemon))


async def login(client: Client, daemon: Daemon) -> None:
    async with client.get("/ui/login") as reply:
        html = await reply.text()
    csrf = html.split('name="_csrf" value="', 1)[1].split('"', 1)[0]
    async with client.post("/ui/login", data={"_csrf": csrf, "token": admin_token(daemon)},
                           allow_redirects=False) as reply:
        assert reply.status == 303


async def test_a_quiet_stream_looks_at_its_build_once_and_ends_at_its_limit(
        client: Client, daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "STREAM_LIMIT", 1.0)
    monkeypatch.setattr(live, "QUIET_WAIT", 0.1)
    looks = 0
    get = daemon.builds.get

    async def counted(build_id: int) -> Any:
        nonlocal looks
        looks += 1
        return await get(build_id)

    monkeypatch.setattr(daemon.builds, "get", counted)
    await login(client, daemon)
    async with client.get("/ui/builds/1/events", timeout=ClientTimeout(total=20)) as reply:
        body = await reply.read()  # it ends: a stream that did not would time out here
    assert b'"state": "queued"' in body and b"event: end" not in body
    # One look for the page's route, one for the state the stream opened on; before, one
    # every half second for a day (for every open stream).
    assert looks == 2
