"""ick/api/builds.py's follower (`GET /builds/ID/log?follow=1`) of a build that stays queued
ends at its limit, and one whose client has left gives its place back."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import ClientTimeout, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from ick import keys
from ick.api import builds as api_builds
from ick.api.app import make_app
from ick.daemon import Daemon
from tests.services import admin_token, queue_one_build

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def daemon(services: Daemon) -> Daemon:
    await queue_one_build(services)
    return services


@pytest.fixture
async def client(daemon: Daemon, aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_app(daemon))


async def test_a_follower_of_a_queued_build_ends_at_its_limit(
        client: Client, daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_builds, "FOLLOW_LIMIT", 0.3)
    monkeypatch.setattr(api_builds, "GONE_CHECK", 0.1)
    async with client.get("/builds/1/log?follow=1", timeout=ClientTimeout(total=20),
                          headers={"Authorization": f"Bearer {admin_token(daemon)}"}) as reply:
        assert reply.status == 200
        await reply.read()  # it ends: a follower that did not would time out here
    assert client.app[keys.STREAM_SLOTS].open == 0


async def test_a_follower_whose_client_left_gives_its_place_back(
        client: Client, daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_builds, "GONE_CHECK", 0.05)
    slots = client.app[keys.STREAM_SLOTS]
    reply = await client.get("/builds/1/log?follow=1",
                             headers={"Authorization": f"Bearer {admin_token(daemon)}"})
    assert reply.status == 200 and slots.open == 1
    reply.close()  # the client goes: the queued build writes nothing that would tell
    async with asyncio.timeout(10):
        while slots.open:
            await asyncio.sleep(0.05)
