"""`GET /projects/{name}/feed.atom` (ick/api/feeds.py): a project's finished builds as Atom,
read back with a real feed parser; read scope and project-bound tokens, public only with
`public_badges: true`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import feedparser
from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.daemon import Daemon
from ick.keys import BASE_URL
from ick.model import ActionRecord, ActionState, BuildState, Pipeline, Project
from tests.api.apiclient import Api
from tests.services import in_process


async def builds_of(daemon: Daemon, project: str, *states: BuildState) -> list[int]:
    """A project with builds that ended in `states`, in order (one more left queued)."""
    await daemon.resources.put_pipeline(Pipeline("p", [], [{"shell": "false"}]))
    await daemon.resources.put_project(Project(project, {}, ["p"]))
    ids = []
    for n, state in enumerate(states):
        action = ActionRecord("p", 0, "shell", "host", {"shell": "false"})
        build = await daemon.builds.create(project, {}, False, [action],
                                           f"2024-01-0{n + 1}T00:00:00Z")
        failed = state is BuildState.FAILED
        done = replace(build.actions[0], state=ActionState.FAILED if failed
                       else ActionState.SUCCEEDED, exit_code=1 if failed else 0)
        await daemon.builds.save(replace(build, state=state, actions=[done],
                                         started_at=f"2024-01-0{n + 1}T00:00:01Z",
                                         finished_at=f"2024-01-0{n + 1}T00:00:09.5Z"), [0])
        ids.append(build.id)
    await daemon.builds.create(project, {}, False, [], "2024-01-09T00:00:00Z")  # unfinished
    return ids


async def test_the_feed_is_valid_atom_with_the_finished_builds_newest_first(api: Api) -> None:
    ids = await builds_of(api.svc, "liw/site", BuildState.SUCCEEDED, BuildState.FAILED)
    async with api.client.get("/projects/liw/site/feed.atom",
                              headers={"Authorization": f"Bearer {api.admin}"}) as reply:
        assert reply.status == 200
        assert reply.content_type == "application/atom+xml"
        text = await reply.text()
    feed = feedparser.parse(text)
    assert not feed.bozo, feed.bozo_exception  # well-formed, as the parser reads Atom
    assert feed.version == "atom10"
    base = api.client.app[BASE_URL]  # public_url, else where the daemon listens
    assert feed.feed.id == f"{base}/ui/projects/liw/site"
    assert feed.feed.title == "ick: liw/site"
    assert feed.feed.updated == "2024-01-02T00:00:09.5Z"
    assert feed.feed.link == f"{base}/ui/projects/liw/site"
    assert [(e.id, e.title, e.updated, e.link) for e in feed.entries] == [
        (f"{base}/ui/builds/{ids[1]}", "liw/site #2 failed", "2024-01-02T00:00:09.5Z",
         f"{base}/ui/builds/{ids[1]}"),
        (f"{base}/ui/builds/{ids[0]}", "liw/site #1 succeeded", "2024-01-01T00:00:09.5Z",
         f"{base}/ui/builds/{ids[0]}"),
    ]
    assert feed.entries[0].summary == f"liw/site #2 (build {ids[1]}) failed; took 8.5 s"


async def test_the_feed_needs_read_and_a_bound_token_sees_only_its_projects(api: Api) -> None:
    await builds_of(api.svc, "mine", BuildState.SUCCEEDED)
    reply = await api.call("GET", "/projects/mine/feed.atom", token=None)
    assert (reply.status, reply.error) == (
        401, "missing token: send 'Authorization: Bearer TOKEN'")
    bound = await api.ok("POST", "/tokens", 201, json={
        "name": "bound", "scopes": ["read"], "projects": ["mine"]})
    assert (await api.call("GET", "/projects/mine/feed.atom", token=bound["token"])).status \
        == 200
    await api.svc.resources.put_project(Project("theirs", {}, ["p"]))
    reply = await api.call("GET", "/projects/theirs/feed.atom", token=bound["token"])
    assert (reply.status, reply.error) == (404, "no project 'theirs'")
    # a project without a finished build has an empty feed; one that is not, none
    empty = feedparser.parse((await api.call("GET", "/projects/theirs/feed.atom")).text)
    assert not empty.bozo and empty.entries == [] and empty.feed.title == "ick: theirs"
    reply = await api.call("GET", "/projects/nosuch/feed.atom")
    assert (reply.status, reply.error) == (404, "no project 'nosuch'")


async def test_public_badges_make_the_feed_public(tmp_path: Path,
                                                  aiohttp_client: AiohttpClient) -> None:
    async with in_process(tmp_path / "s", public_badges=True) as daemon:
        await builds_of(daemon, "hello", BuildState.FAILED)
        await daemon.resources.put_project(Project("quiet", {}, ["p"]))
        client = await aiohttp_client(make_app(daemon))
        async with client.get("/projects/hello/feed.atom") as reply:
            assert reply.status == 200
            feed = feedparser.parse(await reply.text())
        assert [e.title for e in feed.entries] == ["hello #1 failed"]
        # Without a token, no one can tell a project without a finished build from none.
        for name in ("quiet", "nosuch"):
            async with client.get(f"/projects/{name}/feed.atom") as reply:
                assert (reply.status, await reply.json()) == (
                    404, {"error": f"no project {name!r}"})
