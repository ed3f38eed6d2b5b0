"""The environments' pages over HTTP against the real app: the project's page shows each
environment and what is live; an environment's page lists its deployments with Deploy
(a field `build`), Approve, Reject and Roll back, POST forms with CSRF and scope deploy."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.daemon import Daemon
from ick.model import Build, Project
from tests.pipelines import checked
from tests.polling import apoll
from tests.services import in_process
from tests.ui.test_pages import admin, csrf_in, login

Client = TestClient[web.Request, web.Application]
PAGE = "/ui/projects/liw/site/environments/production"


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[Daemon]:
    async with (in_process(tmp_path / "state", workers=1) as svc,
                asyncio.TaskGroup() as group):
        tasks = [group.create_task(svc.workers[0].run()),
                 group.create_task(svc.deployments.run())]
        await svc.resources.put_pipeline(checked("ok", [], [{"shell": "true",
                                                             "where": "host"}]))
        await svc.resources.put_project(Project("liw/site", {}, ["ok"], environments=[
            {"environment": "staging", "pipelines": ["ok"], "url": "https://staging.example"},
            {"environment": "production", "pipelines": ["ok"], "approval": True}]))
        yield svc
        for task in tasks:
            task.cancel()


@pytest.fixture
async def client(daemon: Daemon, aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_app(daemon))


async def succeeded(daemon: Daemon) -> Build:
    build = await daemon.controller.trigger("liw/site", {})

    async def get() -> Build | None:
        return await daemon.builds.get(build.id)

    done = await apoll(get, lambda b: b is not None and b.state.finished, 60, str)
    assert done is not None and done.state.value == "succeeded"
    return done


async def text_of(client: Client, path: str) -> str:
    async with client.get(path) as reply:
        assert reply.status == 200, await reply.text()
        return await reply.text()


async def test_deploy_then_approve_on_the_environment_s_page(daemon: Daemon,
                                                             client: Client) -> None:
    build = await succeeded(daemon)
    await login(client, admin(daemon))
    project = await text_of(client, "/ui/projects/liw/site")
    assert 'href="/ui/projects/liw/site/environments/staging"' in project
    assert "https://staging.example" in project and "nothing yet" in project
    page = await text_of(client, PAGE)
    assert re.search(r'<input id="deploy-build" name="build"', page)
    assert ">Deploy</button>" in page and ">Roll back</button>" in page
    async with client.post(f"{PAGE}/+deploy", data={"_csrf": csrf_in(page),
                                                     "build": str(build.id)},
                           allow_redirects=False) as reply:
        assert reply.status == 303, await reply.text()
        assert reply.headers["Location"] == PAGE
    [waiting] = await daemon.deployments.store.find("liw/site")
    page = await text_of(client, PAGE)
    assert f'action="/ui/deployments/{waiting.id}/+approve"' in page
    assert ">Approve</button>" in page and ">Reject</button>" in page
    async with client.post(f"/ui/deployments/{waiting.id}/+approve",
                           data={"_csrf": csrf_in(page)}, allow_redirects=False) as reply:
        assert reply.status == 303, await reply.text()
    done = await apoll(lambda: daemon.deployments.get(waiting.id),
                       lambda d: d.state.finished, 60, str)
    assert (done.state.value, done.approved_by) == ("succeeded", "admin")
    page = await text_of(client, PAGE)
    assert f'<a href="/ui/builds/{build.id}">build {build.id}</a>, since' in page
    assert ">Approve</button>" not in page


async def test_reject_and_a_token_without_deploy(daemon: Daemon, client: Client) -> None:
    build = await succeeded(daemon)
    waiting = await daemon.deployments.deploy("liw/site", "production", build.id, "alice")
    reader = (await daemon.tokens.create("reader", ["read"]))[0]
    await login(client, reader)
    page = await text_of(client, PAGE)
    assert "cannot deploy" in page and ">Approve</button>" not in page
    async with client.post(f"/ui/deployments/{waiting.id}/+approve",
                           data={"_csrf": csrf_in(page)}, allow_redirects=False) as reply:
        assert reply.status == 403
    async with client.post(f"/ui/deployments/{waiting.id}/+reject",
                           data={"_csrf": "wrong"}, allow_redirects=False) as reply:
        assert reply.status in (400, 403)
    await login(client, admin(daemon))
    page = await text_of(client, PAGE)
    async with client.post(f"/ui/deployments/{waiting.id}/+reject",
                           data={"_csrf": csrf_in(page)}, allow_redirects=False) as reply:
        assert reply.status == 303
    assert (await daemon.deployments.get(waiting.id)).state.value == "rejected"
    async with client.get("/ui/projects/liw/site/environments/nowhere") as reply:
        assert reply.status == 404
