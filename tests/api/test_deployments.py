"""Environments and deployments over the API (DESIGN.md, "Continuous delivery"): the routes
and their scopes (`deploy` to deploy, roll back, approve and reject; `read` to look), the
deployment's JSON, 409 with the reason, and environments' secrets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ick.api.app import make_app
from ick.daemon import Daemon
from ick.model import Project
from tests.api.apiclient import AiohttpClient, Api
from tests.pipelines import checked
from tests.polling import apoll
from tests.services import in_process

FIELDS = {"id", "project", "environment", "build", "run", "state", "reason", "requested_by",
          "approved_by", "created_at", "started_at", "finished_at"}


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Daemon]:
    async with (in_process(tmp_path / "state", workers=1) as daemon,
                asyncio.TaskGroup() as group):
        tasks = [group.create_task(daemon.workers[0].run()),
                 group.create_task(daemon.deployments.run())]
        yield daemon
        for task in tasks:
            task.cancel()


@pytest.fixture
async def api(svc: Daemon, aiohttp_client: AiohttpClient) -> Api:
    client = await aiohttp_client(make_app(svc))
    admin = (svc.settings.state_dir / "admin.token").read_text().strip()
    await svc.resources.put_pipeline(checked("build", [], [
        {"shell": "echo built > out.txt", "where": "host", "outputs": ["out.txt"]}]))
    await svc.resources.put_pipeline(checked("ship", [], [
        {"shell": "test \"$(cat out.txt)\" = built", "where": "host"}]))
    await svc.resources.put_project(Project("site", {}, ["build"], environments=[
        {"environment": "staging", "pipelines": ["ship"], "url": "https://staging.example"},
        {"environment": "production", "pipelines": ["ship"], "after": "staging",
         "approval": True},
    ]))
    await svc.resources.put_project(Project("other", {}, ["build"]))
    return Api(client, svc, admin)


async def succeeded_build(api: Api) -> int:
    build = await api.ok("POST", "/projects/site/+trigger", 201, json={})
    await apoll(lambda: api.ok("GET", f"/builds/{build['id']}"),
                lambda b: b["state"] in ("succeeded", "failed"), 60, lambda b: str(b))
    return int(build["id"])


async def ended(api: Api, deployment_id: int) -> dict[str, Any]:
    return dict(await apoll(
        lambda: api.ok("GET", f"/deployments/{deployment_id}"),
        lambda d: d["state"] in ("succeeded", "failed", "cancelled", "rejected"), 60,
        lambda d: str(d)))


async def test_deploy_approve_and_roll_back_with_their_scopes(api: Api) -> None:
    reader = await api.token("read", name="reader")
    deployer = await api.token("deploy", "read", name="dora")
    first = await succeeded_build(api)
    reply = await api.call("POST", "/projects/site/environments/staging/+deploy",
                           json={"build": first}, token=reader)
    assert reply.status == 403
    made = await api.ok("POST", "/projects/site/environments/staging/+deploy", 201,
                        json={"build": first}, token=deployer)
    assert set(made) == FIELDS
    assert (made["project"], made["environment"], made["build"], made["reason"],
            made["requested_by"], made["approved_by"]) == ("site", "staging", first, "manual",
                                                          "dora", None)
    assert (await ended(api, made["id"]))["state"] == "succeeded"
    # production: only what staging had, and it waits for approval
    second = await succeeded_build(api)
    refused = await api.call("POST", "/projects/site/environments/production/+deploy",
                             json={"build": second}, token=deployer)
    assert refused.status == 409
    assert refused.error == (f"build {second} has no succeeded deployment to 'staging', and "
                             "environment 'production' takes only builds deployed there "
                             "(after: staging)")
    waiting = await api.ok("POST", "/projects/site/environments/production/+deploy", 201,
                           token=deployer)
    assert (waiting["state"], waiting["build"]) == ("waiting", first)
    envs = await api.ok("GET", "/projects/site/environments", token=reader)
    assert [e["environment"] for e in envs] == ["staging", "production"]
    assert envs[0]["live"]["build"] == first and envs[0]["url"] == "https://staging.example"
    assert envs[1]["live"] is None
    assert [w["id"] for w in envs[1]["waiting"]] == [waiting["id"]]
    assert (await api.call("POST", f"/deployments/{waiting['id']}/+approve",
                           token=reader)).status == 403
    approved = await api.ok("POST", f"/deployments/{waiting['id']}/+approve", token=deployer)
    assert approved["approved_by"] == "dora"
    assert (await ended(api, waiting["id"]))["state"] == "succeeded"
    again = await api.call("POST", f"/deployments/{waiting['id']}/+reject", token=deployer)
    assert again.status == 409 and "not waiting for approval" in again.error
    # staging gets the second build, then rolls back to the first
    made = await api.ok("POST", "/projects/site/environments/staging/+deploy", 201, json={})
    assert made["build"] == second
    await ended(api, made["id"])
    back = await api.ok("POST", "/projects/site/environments/staging/+rollback", 201, json={})
    assert (back["build"], back["reason"]) == (first, "rollback")
    await ended(api, back["id"])
    listed = await api.ok("GET", "/deployments?project=site&environment=staging&limit=2",
                          token=reader)
    assert [d["id"] for d in listed] == [back["id"], made["id"]]
    assert len(await api.ok("GET", "/deployments")) == 4


async def test_reject_and_the_errors(api: Api) -> None:
    first = await succeeded_build(api)
    made = await api.ok("POST", "/projects/site/environments/staging/+deploy", 201,
                        json={"build": first})
    await ended(api, made["id"])
    waiting = await api.ok("POST", "/projects/site/environments/production/+deploy", 201)
    rejected = await api.ok("POST", f"/deployments/{waiting['id']}/+reject")
    assert (rejected["state"], rejected["run"]) == ("rejected", None)
    assert (await api.call("POST", "/projects/site/environments/nowhere/+deploy")).status == 404
    assert (await api.call("POST", "/projects/nope/environments/staging/+deploy")).status == 404
    assert (await api.call("POST", "/projects/site/environments/staging/+deploy",
                           json={"build": "x"})).status == 400
    assert (await api.call("POST", "/projects/site/environments/staging/+deploy",
                           json={"build": 99999})).status == 404
    assert (await api.call("POST", "/projects/other/environments/staging/+deploy",
                           json={})).status == 404
    assert (await api.call("GET", "/deployments/99999")).status == 404
    nothing = await api.call("POST", "/projects/site/environments/staging/+rollback")
    assert nothing.status == 409 and "no build was live in 'staging' before" in nothing.error
    bound = await api.ok("POST", "/tokens", 201, json={
        "name": "b", "scopes": ["read", "deploy"], "projects": ["other"]})
    assert (await api.call("GET", f"/deployments/{made['id']}",
                           token=bound["token"])).status == 404
    assert await api.ok("GET", "/deployments", token=bound["token"]) == []


async def test_an_environment_s_secrets_over_the_api(api: Api) -> None:
    reply = await api.ok("PUT", "/projects/site/+secrets/key?environment=staging", 201,
                         data=b"value-1")
    assert reply == {"project": "site", "secret": "key", "environment": "staging"}
    assert [s["name"] for s in await api.ok(
        "GET", "/projects/site/+secrets?environment=staging")] == ["key"]
    assert await api.ok("GET", "/projects/site/+secrets") == []
    assert (await api.call("PUT", "/projects/site/+secrets/key?environment=nowhere",
                           data=b"value-1")).status == 404
    assert (await api.call("DELETE", "/projects/site/+secrets/key")).status == 404
    await api.ok("DELETE", "/projects/site/+secrets/key?environment=staging")
    assert api.svc.secrets.store.get("site", "key", "staging") is None


async def test_a_pipeline_an_environment_runs_cannot_be_deleted(api: Api) -> None:
    reply = await api.call("DELETE", "/pipelines/ship")
    assert (reply.status, reply.error) == (409, "pipeline 'ship' is used by project 'site'")
