"""The project and pipeline routes (ick/api/resources.py) on the real services, with names
that hold a slash."""

from __future__ import annotations

import pytest

from tests.api.apiclient import PIPELINE, PROJECT, Api


async def test_put_get_list_and_delete_resources(api: Api) -> None:
    assert await api.ok("PUT", "/pipelines/greet", 201, json=PIPELINE) == PIPELINE
    created = await api.ok("PUT", "/projects/hello", 201, json=PROJECT)
    assert created == {**PROJECT, "notify": [], "concurrent": False}
    changed = {**PROJECT, "parameters": {"greeting": "hey"}}
    assert (await api.ok("PUT", "/projects/hello", 200, json=changed))["parameters"] == {
        "greeting": "hey"}
    assert (await api.ok("GET", "/projects/hello"))["parameters"] == {"greeting": "hey"}
    assert [p["project"] for p in await api.ok("GET", "/projects")] == ["hello"]
    assert await api.ok("GET", "/pipelines") == [PIPELINE]
    # the name may be left out of the body: the path gives it
    assert (await api.ok("PUT", "/pipelines/other", 201, json={"actions": []}))["pipeline"] == (
        "other")
    assert await api.ok("DELETE", "/projects/hello") == {"deleted": "hello"}
    assert (await api.call("GET", "/projects/hello")).status == 404
    assert await api.ok("DELETE", "/pipelines/greet") == {"deleted": "greet"}


@pytest.mark.parametrize(
    ("put", "get", "trigger", "delete"),
    [
        ("/projects/liw/website", "/projects/liw%2Fwebsite",
         "/projects/liw%2Fwebsite/+trigger", "/projects/liw/website"),
        ("/projects/liw%2Fwebsite", "/projects/liw/website",
         "/projects/liw/website/+trigger", "/projects/liw%2Fwebsite"),
        ("/projects/a/b/c", "/projects/a%2Fb/c",
         "/projects/a/b%2Fc/+trigger", "/projects/a%2fb%2fc"),
    ],
)
async def test_a_slash_in_a_name_works_literally_and_as_2f(
    api: Api, put: str, get: str, trigger: str, delete: str
) -> None:
    name = put.removeprefix("/projects/").replace("%2F", "/")
    await api.ok("PUT", "/pipelines/team/greet", 201,
                 json={"pipeline": "team/greet",
                       "actions": [{"shell": "true", "where": "host"}]})
    assert (await api.ok("GET", "/pipelines/team%2Fgreet"))["pipeline"] == "team/greet"
    doc = {"project": name, "pipelines": ["team/greet"]}
    assert (await api.ok("PUT", put, 201, json=doc))["project"] == name
    assert (await api.ok("GET", get))["project"] == name
    build = await api.ok("POST", trigger, 201)
    assert (build["project"], build["number"]) == (name, 1)
    assert [a["pipeline"] for a in build["actions"]] == ["team/greet"]
    assert await api.ok("DELETE", delete) == {"deleted": name}
    assert (await api.call("GET", put)).status == 404


async def test_a_project_naming_a_missing_pipeline_is_refused(api: Api) -> None:
    reply = await api.call("PUT", "/projects/p", json={"pipelines": ["ghost"]})
    assert (reply.status, reply.error) == (
        400, "project 'p' names pipeline 'ghost', which does not exist")
    assert (await api.call("GET", "/projects/p")).status == 404


async def test_a_project_lacking_a_required_parameter_is_refused(api: Api) -> None:
    await api.ok("PUT", "/pipelines/greet", 201, json=PIPELINE)
    reply = await api.call("PUT", "/projects/p", json={"pipelines": ["greet"]})
    assert (reply.status, reply.error) == (
        400, "project 'p' does not give parameter 'greeting' that pipeline 'greet' requires")


async def test_a_pipeline_in_use_cannot_be_deleted(api: Api) -> None:
    await api.setup_hello()
    reply = await api.call("DELETE", "/pipelines/greet")
    assert (reply.status, reply.error) == (409, "pipeline 'greet' is used by project 'hello'")
    assert (await api.ok("GET", "/pipelines/greet"))["pipeline"] == "greet"
