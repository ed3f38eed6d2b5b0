"""`when:` over the API (ick/api/resources.py, ick/api/apply.py): documents are kept as
written, bad conditions are a 400 naming what is wrong, a pipeline a project's conditional
entry uses cannot be deleted, and a triggered build shows what was skipped and why."""

from __future__ import annotations

from typing import Any

from tests.api.apiclient import Api

PUBLISH: dict[str, Any] = {
    "pipeline": "publish", "parameters": [], "when": {"event": ["push", "tag"]},
    "actions": [{"shell": "true", "where": "host", "when": {"status": "failure"}}]}
BUILD: dict[str, Any] = {"pipeline": "build", "parameters": [],
                         "actions": [{"shell": "true", "where": "host"}]}
SITE: dict[str, Any] = {
    "project": "site", "parameters": {}, "notify": [], "concurrent": False,
    "pipelines": ["build", {"pipeline": "publish", "when": {"branch": "main"}}]}


async def test_conditions_are_kept_as_written(api: Api) -> None:
    assert await api.ok("PUT", "/pipelines/build", 201, json=BUILD) == BUILD
    assert await api.ok("PUT", "/pipelines/publish", 201, json=PUBLISH) == PUBLISH
    assert await api.ok("PUT", "/projects/site", 201, json=SITE) == SITE
    assert await api.ok("GET", "/projects/site") == SITE
    assert await api.ok("GET", "/pipelines/publish") == PUBLISH
    reply = await api.call("DELETE", "/pipelines/publish")
    assert (reply.status, reply.error) == (409, "pipeline 'publish' is used by project 'site'")


async def test_a_manual_build_shows_what_its_conditions_skipped(api: Api) -> None:
    await api.ok("PUT", "/pipelines/build", 201, json=BUILD)
    await api.ok("PUT", "/pipelines/publish", 201, json=PUBLISH)
    await api.ok("PUT", "/projects/site", 201, json=SITE)
    build = await api.ok("POST", "/projects/site/+trigger", 201)
    assert [(a["pipeline"], a["state"], a["message"]) for a in build["actions"]] == [
        ("build", "pending", None),
        ("publish", "skipped", "when: branch is none, not 'main'"),
    ]
    stored = await api.ok("GET", f"/builds/{build['id']}")
    assert stored["actions"][1]["message"] == "when: branch is none, not 'main'"


async def test_bad_conditions_are_a_400_naming_each_problem(api: Api) -> None:
    await api.ok("PUT", "/pipelines/build", 201, json=BUILD)
    reply = await api.call("PUT", "/projects/site", json={
        "pipelines": [{"pipeline": "build", "when": {"branches": "main"}}]})
    assert (reply.status, reply.error) == (
        400, "pipelines entry 1 of project 'site': 'when': unknown key "
             "'branches' (expected one of: branch, event, parameters, status, tag)")
    reply = await api.call("PUT", "/pipelines/publish", json={
        **PUBLISH, "actions": [{"shell": "true", "where": "host", "when": {"status": "ok"}}]})
    assert reply.status == 400
    assert "action 1 of pipeline 'publish': 'when': unknown status 'ok' (expected one of: " \
           "success, failure)" in reply.error
    reply = await api.call("POST", "/apply", json={
        "pipelines": [{**BUILD, "when": {"event": "nightly"}}], "projects": []})
    assert reply.status == 400
    assert "pipeline 'build': 'when': unknown event 'nightly'" in reply.error
    assert (await api.call("GET", "/projects/site")).status == 404
