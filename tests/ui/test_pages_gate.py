"""The project's page shows its gate's queue: each candidate with its build, branch, commit,
attempt and where it is (ick/ui/templates/project.html). The real app in this process."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.daemon import Daemon
from ick.model import Project
from tests.pipelines import checked
from tests.ui.test_pages import admin, login

Client = TestClient[web.Request, web.Application]


async def test_the_project_page_shows_the_gate_queue(
        services: Daemon, aiohttp_client: AiohttpClient) -> None:
    await services.resources.put_pipeline(checked("greet", [], [{"shell": "true",
                                                                  "where": "host"}]))
    await services.resources.put_project(Project("gated", {}, ["greet"],
                                                 gate={"branch": "main"}))
    await services.resources.put_project(Project("plain", {}, ["greet"]))
    for name, commit in (("fix-typo", "a" * 40), ("more", "b" * 40)):
        await services.controller.trigger_commit(
            "gated", {"git_ref": f"refs/heads/gate/main/{name}", "git_commit": commit},
            ick_trigger="hook")
    client = await aiohttp_client(make_app(services))
    await login(client, admin(services))
    async with client.get("/ui/projects/gated") as reply:
        html = await reply.text()
    assert '<section class="gate" id="gate">' in html
    assert "push changes to <code>gate/main/NAME</code>" in html
    assert html.count('<tr class="candidate">') == 2
    assert "<code>gate/main/fix-typo</code>" in html and "<code>gate/main/more</code>" in html
    assert '<td class="result">queued</td>' in html
    async with client.get("/ui/projects/plain") as reply:
        assert 'class="gate"' not in await reply.text()
