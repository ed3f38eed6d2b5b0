"""The dashboard, project and build pages show what a build was built from and why: branch or
tag, commit, subject, author, event, who triggered (ick/ui/templates). Autoescaped. The real
app in this process, builds made by the controller with the facts a trigger gives."""

from __future__ import annotations

from html import unescape

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.daemon import Daemon
from ick.model import GitFacts, Project
from tests.pipelines import checked
from tests.ui.test_pages import admin, login

Client = TestClient[web.Request, web.Application]
SHA = "9f1c2d3e4f" * 4
SUBJECT = 'Fix <script>alert("x")</script> & the "typo"'
AUTHOR = "Tess Ter <tess@example.org>"
PAGES = ("/ui/", "/ui/projects/liw/site", "/ui/builds/2")


@pytest.fixture
async def client(services: Daemon, aiohttp_client: AiohttpClient) -> Client:
    await services.resources.put_pipeline(checked("greet", [], [{"shell": "true",
                                                                  "where": "host"}]))
    await services.resources.put_project(Project("liw/site", {}, ["greet"]))
    # Queued for good (no local worker): build 1 of a tag, build 2 of a branch. (The
    # dispatcher's trigger takes the facts a hook gives; the controller's passes them on.)
    await services.controller.dispatcher.trigger(
        "liw/site", {"git_ref": "refs/tags/v1.0"}, ick_trigger="hook",
        git=GitFacts.of_ref("refs/tags/v1.0", "abcdef0123" * 4, "Release 1.0", AUTHOR),
        triggered_by="hook for liw/site")
    await services.controller.dispatcher.trigger(
        "liw/site", {"git_ref": "refs/heads/feature/typo", "git_commit": SHA},
        ick_trigger="hook", git=GitFacts.of_ref("refs/heads/feature/typo", SHA, SUBJECT, AUTHOR),
        triggered_by="hook for liw/site")
    client = await aiohttp_client(make_app(services))
    await login(client, admin(services))
    return client


async def page(client: Client, path: str) -> str:
    async with client.get(path) as reply:
        assert reply.status == 200, path
        return await reply.text()


async def test_every_page_shows_branch_commit_subject_author_event_and_who(
        client: Client) -> None:
    for path in PAGES:
        html = await page(client, path)
        assert '<span class="branch" title="branch">feature/typo</span>' in html, path
        assert SHA[:10] in html, path
        assert '<span class="event">push</span>' in html or \
            '<dd class="event">push</dd>' in html, path
        assert "hook for liw/site" in html, path
        # Shown as text: escaped where it is an element's text and where it is an attribute.
        assert "Fix &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; the &#34;typo&#34;" \
            in html, path
        assert "<script>alert" not in html, path
        assert "Tess Ter &lt;tess@example.org&gt;" in html, path
        assert SUBJECT in unescape(html)


async def test_a_tag_build_shows_its_tag(client: Client) -> None:
    project = await page(client, "/ui/projects/liw/site")
    assert '<span class="tag" title="tag">tag v1.0</span>' in project
    assert "Release 1.0" in project
    build = await page(client, "/ui/builds/1")
    assert "<dt>Tag</dt>" in build and "<dt>Branch</dt>" not in build
    assert '<dd class="event">tag</dd>' in build
    assert '<dd class="subject">Release 1.0</dd>' in build
    assert f'<code title="{"abcdef0123" * 4}">' in build


async def test_the_build_page_names_each_fact(client: Client) -> None:
    html = await page(client, "/ui/builds/2")
    for label, value in [("Event", "push"), ("Triggered by", "hook for liw/site"),
                         ("Subject", SUBJECT), ("Author", AUTHOR), ("Commit", SHA)]:
        assert f"<dt>{label}</dt>" in html
        assert value in unescape(html)
    assert 'id="state"' in html and 'id="log"' in html  # the test hooks stay
