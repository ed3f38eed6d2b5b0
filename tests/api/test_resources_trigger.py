"""Triggering a project (ick/api/resources.py) on the real services: the new build and its
parameters."""

from __future__ import annotations

from tests.api.apiclient import PIPELINE, Api


async def test_trigger_answers_201_with_the_new_build(api: Api) -> None:
    await api.setup_hello()
    build = await api.ok("POST", "/projects/hello/+trigger", 201)
    assert {"id", "project", "number", "state", "parameters", "queued_at", "started_at",
            "finished_at", "actions"} <= set(build)
    assert (build["project"], build["number"], build["state"]) == ("hello", 1, "queued")
    assert build["parameters"] == {"greeting": "hi", "keep": 1,
                                   "ick_trigger": "api", "ick_event": "manual"}
    assert isinstance(build["id"], int)
    assert isinstance(build["queued_at"], str) and build["queued_at"].endswith("Z")
    assert (build["started_at"], build["finished_at"]) == (None, None)
    assert [{k: a[k] for k in ("pipeline", "index", "kind", "where", "state", "exit_code",
                               "duration", "message")} for a in build["actions"]] == [
        {"pipeline": "greet", "index": 0, "kind": "shell", "where": "host", "state": "pending",
         "exit_code": None, "duration": None, "message": None},
        {"pipeline": "greet", "index": 1, "kind": "python", "where": "container",
         "state": "pending", "exit_code": None, "duration": None, "message": None},
    ]
    again = await api.ok("POST", "/projects/hello/+trigger", 201, json={})
    assert (again["number"], again["id"]) == (2, build["id"] + 1)
    stored = await api.ok("GET", f"/builds/{build['id']}")
    assert {k: stored[k] for k in build} == build
    listed = await api.ok("GET", "/builds")
    assert [b["id"] for b in listed] == [again["id"], build["id"]]
    assert [b["id"] for b in await api.ok("GET", "/builds?limit=1")] == [again["id"]]
    reply = await api.call("GET", "/builds?project=other")
    assert (reply.status, reply.error) == (404, "no project 'other'")


async def test_trigger_parameters_override_the_projects(api: Api) -> None:
    await api.setup_hello()
    body = {"parameters": {"greeting": "bye", "git_commit": "9f1c"}}
    build = await api.ok("POST", "/projects/hello/+trigger", 201, json=body)
    expected = {"greeting": "bye", "keep": 1, "git_commit": "9f1c",
                "ick_trigger": "api", "ick_event": "manual"}
    assert build["parameters"] == expected
    assert (await api.ok("GET", f"/builds/{build['id']}"))["parameters"] == expected
    assert (await api.ok("GET", "/projects/hello"))["parameters"] == {"greeting": "hi", "keep": 1}


async def test_trigger_refuses_a_build_missing_a_required_parameter(api: Api) -> None:
    await api.setup_hello()
    await api.ok("PUT", "/pipelines/greet", 200, json={**PIPELINE, "parameters": ["target"]})
    reply = await api.call("POST", "/projects/hello/+trigger")
    assert (reply.status, reply.error) == (
        400, "pipeline 'greet' requires parameter 'target', which project 'hello' does not give")
    assert await api.ok("GET", "/builds") == []
    given = {"parameters": {"target": "x"}}
    assert (await api.ok("POST", "/projects/hello/+trigger", 201, json=given))["number"] == 1
