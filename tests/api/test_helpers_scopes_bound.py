"""Tokens bound to projects (`require`'s project check) on every route of the HTTP API:
another project, or a build of another project, is 404 as if it did not exist; a route that
is no project's is 403; listings show only the token's projects (DESIGN.md, "Tokens bound
to projects")."""

from __future__ import annotations

from tests.api.apiclient import Api
from tests.api.test_helpers_scopes import ROUTES

BOUND = "token 'bound' is bound to projects (mine*): it may use only their routes"
# Routes that are no project's and are not in ROUTES (their scope is tested elsewhere).
MORE = [("GET", "/workers"), ("POST", "/apply")]
LISTINGS = {("GET", "/projects"), ("GET", "/builds")}


async def setup(api: Api) -> tuple[str, int, int]:
    """Projects `mine` and `theirs`, one queued build each (no worker has their label), and
    a read+trigger+write token bound to `mine*`."""
    await api.ok("PUT", "/pipelines/pl", 201, json={
        "pipeline": "pl", "actions": [{"shell": "true", "where": "host"}]})
    for name in ("mine", "theirs"):
        await api.ok("PUT", f"/projects/{name}", 201, json={
            "project": name, "pipelines": ["pl"], "parameters": {"git_url": "/srv/x"},
            "worker": {"arch": "nosuch"}})
    mine = (await api.ok("POST", "/projects/mine/+trigger", 201))["id"]
    theirs = (await api.ok("POST", "/projects/theirs/+trigger", 201))["id"]
    created = await api.ok("POST", "/tokens", 201, json={
        "name": "bound", "scopes": ["read", "trigger", "write"], "projects": ["mine*"]})
    return str(created["token"]), mine, theirs


async def test_another_projects_routes_are_404_and_the_rest_403(api: Api) -> None:
    token, _, theirs = await setup(api)
    for method, path, needed in ROUTES:
        other = path.replace("/projects/p", "/projects/theirs").replace(
            "/builds/1", f"/builds/{theirs}")
        reply = await api.call(method, other, token=token, json={})
        if needed in ("admin", "worker"):
            assert (reply.status, reply.error) == (
                403, f"token 'bound' lacks the '{needed}' scope"), (method, path)
        elif other != path:
            missing = ("no project 'theirs'" if "/projects/" in path
                       else f"no build {theirs}")
            assert (reply.status, reply.error) == (404, missing), (method, path)
        elif (method, path) in LISTINGS:
            assert reply.status == 200, (method, path, reply.text)
        else:
            assert (reply.status, reply.error) == (403, BOUND), (method, path)
    for method, path in MORE:
        reply = await api.call(method, path, token=token, json={})
        assert (reply.status, reply.error) == (403, BOUND), (method, path)
    reply = await api.call("GET", "/builds?project=theirs", token=token)
    assert (reply.status, reply.error) == (404, "no project 'theirs'")
    # nothing of theirs changed or was queued
    assert len(await api.ok("GET", "/builds?project=theirs")) == 1
    assert await api.ok("GET", "/projects/theirs")


async def test_its_own_projects_routes_work_and_listings_show_only_them(api: Api) -> None:
    token, mine, _ = await setup(api)
    assert [p["project"] for p in await api.ok("GET", "/projects", token=token)] == ["mine"]
    assert [b["id"] for b in await api.ok("GET", "/builds", token=token)] == [mine]
    assert [b["id"] for b in await api.ok("GET", "/builds?project=mine", token=token)] == [mine]
    assert (await api.ok("GET", "/projects/mine", token=token))["project"] == "mine"
    assert (await api.ok("GET", f"/builds/{mine}", token=token))["id"] == mine
    assert (await api.call("GET", f"/builds/{mine}/log", token=token)).status == 200
    await api.ok("PUT", "/projects/mine/+secrets/TOKEN", 201, token=token, data=b"s3cret")
    assert await api.ok("GET", "/projects/mine/+secrets", token=token)
    await api.ok("DELETE", "/projects/mine/+secrets/TOKEN", token=token)
    # write: it sets any parameter of its own project
    again = await api.ok("POST", "/projects/mine/+trigger", 201, token=token,
                         json={"parameters": {"git_url": "/srv/y"}})
    await api.ok("POST", f"/builds/{again['id']}/+rebuild", 201, token=token)
    await api.ok("POST", f"/builds/{mine}/+cancel", token=token)
    # a project it creates must match its globs
    await api.ok("PUT", "/projects/mine2", 201, token=token,
                 json={"project": "mine2", "pipelines": ["pl"]})
    reply = await api.call("PUT", "/projects/yours", token=token,
                           json={"project": "yours", "pipelines": ["pl"]})
    assert (reply.status, reply.error) == (404, "no project 'yours'")
    reply = await api.call("PUT", "/projects/mine", token=token,
                           json={"project": "mine", "pipelines": ["pl"], "triggers": ["theirs"]})
    assert (reply.status, reply.error) == (404, "no project 'theirs'")
    # a login link carries the token; the pages check its projects as the API does
    assert (await api.call("POST", "/login-links", token=token)).status == 201
