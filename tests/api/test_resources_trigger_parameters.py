"""What a trigger may choose (DESIGN.md, "Trust boundaries"), through the API on the real
services: a `trigger` token without `write` sets only git_ref, git_commit and the project's
trigger_parameters, and a rebuild cannot bring back what it could not set."""

from __future__ import annotations

from tests.api.apiclient import Api

PROJECT = {"project": "site", "pipelines": ["pl"], "worker": {"arch": "nosuch"},
           "parameters": {"git_url": "/srv/site.git", "flavour": "plain"},
           "trigger_parameters": ["flavour"]}


async def setup(api: Api) -> str:
    await api.ok("PUT", "/pipelines/pl", 201, json={
        "pipeline": "pl", "parameters": ["git_url"],
        "actions": [{"shell": "true", "where": "host"}]})
    await api.ok("PUT", "/projects/site", 201, json=PROJECT)
    return await api.token("trigger", "read", name="ci")


def refused(name: str) -> str:
    return (f"token 'ci' may not set parameter {name!r} of project 'site' (a trigger token "
            "sets only flavour, git_commit, git_ref; the project's trigger_parameters add more)")


async def test_a_trigger_token_sets_only_what_the_project_lets_it(api: Api) -> None:
    token = await setup(api)
    for name in ("git_url", "nosuch"):
        reply = await api.call("POST", "/projects/site/+trigger", token=token,
                               json={"parameters": {name: "/tmp/evil"}})
        assert (reply.status, reply.error) == (403, refused(name))
    assert await api.ok("GET", "/builds") == []
    build = await api.ok("POST", "/projects/site/+trigger", 201, token=token, json={
        "parameters": {"flavour": "spicy", "git_ref": "refs/heads/x", "git_commit": "ab"}})
    assert build["parameters"] == {"git_url": "/srv/site.git", "flavour": "spicy",
                                   "git_ref": "refs/heads/x", "git_commit": "ab",
                                   "ick_trigger": "api", "ick_event": "manual"}
    # write: any parameter the project knows, as before
    writer = await api.token("trigger", "write", name="w")
    await api.ok("POST", "/projects/site/+trigger", 201, token=writer,
                 json={"parameters": {"git_url": "/srv/other.git"}})
    assert (await api.ok("GET", "/projects/site"))["trigger_parameters"] == ["flavour"]


async def test_a_rebuild_by_a_trigger_token_cannot_bring_back_a_parameter(api: Api) -> None:
    token = await setup(api)
    plain = await api.ok("POST", "/projects/site/+trigger", 201, token=token,
                         json={"parameters": {"flavour": "x", "git_commit": "ab"}})
    await api.ok("POST", f"/builds/{plain['id']}/+rebuild", 201, token=token)
    # a build triggered with write, from elsewhere: a trigger token may not replay it
    other = await api.ok("POST", "/projects/site/+trigger", 201,
                         json={"parameters": {"git_url": "/tmp/evil"}})
    reply = await api.call("POST", f"/builds/{other['id']}/+rebuild", token=token)
    assert (reply.status, reply.error) == (403, refused("git_url"))
    # nor one whose git_url the project has since changed
    await api.ok("PUT", "/projects/site", json={**PROJECT, "parameters": {
        "git_url": "/srv/moved.git", "flavour": "plain"}})
    reply = await api.call("POST", f"/builds/{plain['id']}/+rebuild", token=token)
    assert (reply.status, reply.error) == (403, refused("git_url"))
    count = len(await api.ok("GET", "/builds"))
    assert count == 3
    # write may, as before
    await api.ok("POST", f"/builds/{other['id']}/+rebuild", 201)
