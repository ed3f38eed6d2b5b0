"""The HTTP API (ick/api) on the real services of a state dir, through `aiohttp_client`.

Auth and scopes on every route, input errors as JSON 4xx, names with '/', triggering,
tokens, the work protocol, and junk that must never make a 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from ick.api.app import make_app
from ick.config import Settings
from ick.daemon import Daemon, open_daemon

AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]

WAIT = 5.0  # the most an awaited state change may take before the test fails

PIPELINE = {"pipeline": "greet", "parameters": ["greeting"],
            "actions": [{"shell": "echo hi", "where": "host"},
                        {"python": "print(1)", "where": "container"}]}
PROJECT = {"project": "hello", "parameters": {"greeting": "hi", "keep": 1},
           "pipelines": ["greet"]}


@dataclass
class Reply:
    status: int
    body: Any  # the decoded JSON, or the text when it is not JSON
    text: str

    @property
    def error(self) -> str:
        assert isinstance(self.body, dict) and isinstance(self.body.get("error"), str), self.text
        return str(self.body["error"])


@dataclass
class Api:
    client: TestClient[Any, Any]
    svc: Daemon
    admin: str

    async def call(
        self, method: str, path: str, *, token: str | None = "admin",
        headers: dict[str, str] | None = None, **kwargs: Any,
    ) -> Reply:
        """One request; `token` is a token, "admin" for the admin one, or None for none."""
        sent = dict(headers or {})
        if token is not None and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.admin if token == 'admin' else token}"
        async with self.client.request(method, path, headers=sent, **kwargs) as resp:
            text = await resp.text()
            try:
                body = json.loads(text)
            except ValueError:
                body = text
            return Reply(resp.status, body, text)

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        reply = await self.call(method, path, **kwargs)
        assert reply.status == status, reply.text
        return reply.body

    async def token(self, *scopes: str, name: str = "t") -> str:
        body = await self.ok("POST", "/tokens", 201, json={"name": name, "scopes": list(scopes)})
        return str(body["token"])

    async def setup_hello(self) -> None:
        await self.ok("PUT", "/pipelines/greet", 201, json=PIPELINE)
        await self.ok("PUT", "/projects/hello", 201, json=PROJECT)


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[Daemon]:
    async with open_daemon(Settings(state_dir=tmp_path / "state", workers=1)) as daemon:
        yield daemon


@pytest.fixture
async def api(svc: Daemon, aiohttp_client: AiohttpClient) -> Api:
    client = await aiohttp_client(make_app(svc))
    admin = (svc.settings.state_dir / "admin.token").read_text().strip()
    return Api(client, svc, admin)


# auth ------------------------------------------------------------------------


async def test_version_needs_no_token(api: Api) -> None:
    assert await api.ok("GET", "/version", token=None) == {"name": "ick", "version": "0.1.0"}


async def test_the_admin_token_file_is_private_and_works(api: Api) -> None:
    path = api.svc.settings.state_dir / "admin.token"
    assert path.stat().st_mode & 0o777 == 0o600
    assert api.admin.startswith("ick_")
    assert await api.ok("GET", "/projects") == []


# What each route needs. Paths name things that do not exist: the scope check comes first.
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/projects", "read"),
    ("GET", "/projects/p", "read"),
    ("PUT", "/projects/p", "write"),
    ("DELETE", "/projects/p", "write"),
    ("POST", "/projects/p/+trigger", "trigger"),
    ("GET", "/projects/p/+secrets", "read"),
    ("PUT", "/projects/p/+secrets/TOKEN", "write"),
    ("DELETE", "/projects/p/+secrets/TOKEN", "write"),
    ("GET", "/pipelines", "read"),
    ("GET", "/pipelines/pl", "read"),
    ("PUT", "/pipelines/pl", "write"),
    ("DELETE", "/pipelines/pl", "write"),
    ("GET", "/artifacts", "read"),
    ("GET", "/artifacts/a", "read"),
    ("PUT", "/artifacts/a", "write"),
    ("DELETE", "/artifacts/a", "write"),
    ("GET", "/builds", "read"),
    ("GET", "/builds/1", "read"),
    ("GET", "/builds/1/log", "read"),
    ("POST", "/builds/1/+cancel", "write"),
    ("POST", "/builds/1/+rebuild", "trigger"),
    ("POST", "/prune", "write"),
    ("GET", "/tokens", "admin"),
    ("POST", "/tokens", "admin"),
    ("DELETE", "/tokens/0123456789ab", "admin"),
    ("POST", "/work", "worker"),
    ("GET", "/work?worker=nobody&timeout=0", "worker"),
    ("POST", "/work/1/0/output?worker=nobody", "worker"),
    ("POST", "/work/1/0/done?worker=nobody", "worker"),
    ("GET", "/work/1/0/cancel?worker=nobody", "worker"),
]

MISSING = "missing token: send 'Authorization: Bearer TOKEN'"
BAD_HEADER = "bad authorization header: expected 'Bearer TOKEN'"
INVALID = "invalid token"
WORKER_NAME = "name: expected a string of 1 to 100 printable characters"
OUTCOME = "outcome: expected a whole number or null as exit_code and seconds as duration"


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, MISSING),
        ("Bearer not-a-token", INVALID),
        ("Bearer ick_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", INVALID),
        ("Basic dXNlcjpwYXNz", BAD_HEADER),
        ("Bearer", BAD_HEADER),
        ("ick_abc_def", BAD_HEADER),
    ],
)
async def test_without_a_valid_token_every_route_answers_401(
    api: Api, authorization: str | None, message: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path, _ in ROUTES:
        reply = await api.call(method, path, token=None, headers=headers)
        assert (reply.status, reply.error) == (401, message), (method, path)


@pytest.mark.parametrize("scope", ["read", "trigger", "write", "worker"])
async def test_a_token_without_the_scope_gets_403_on_every_route_that_needs_it(
    api: Api, scope: str
) -> None:
    token = await api.token(scope, name=f"only-{scope}")
    for method, path, needed in ROUTES:
        reply = await api.call(method, path, token=token)
        if needed == scope:
            assert reply.status not in (401, 403), (method, path, reply.text)
            assert reply.status < 500, (method, path, reply.text)
        else:
            assert reply.status == 403, (method, path, reply.text)
            assert reply.error == f"token 'only-{scope}' lacks the '{needed}' scope"


async def test_a_token_with_several_scopes_passes_each(api: Api) -> None:
    token = await api.token("read", "trigger")
    assert (await api.call("GET", "/builds", token=token)).status == 200
    assert (await api.call("POST", "/projects/p/+trigger", token=token)).status == 404
    assert (await api.call("PUT", "/projects/p", token=token, json={})).status == 403


# tokens ----------------------------------------------------------------------


async def test_token_listing_never_shows_a_secret_or_a_hash(api: Api) -> None:
    created = await api.ok("POST", "/tokens", 201, json={"name": "ci", "scopes": ["read"]})
    assert set(created) == {"id", "name", "scopes", "created_at", "reusable", "token"}
    assert (created["name"], created["scopes"], created["reusable"]) == ("ci", ["read"], False)
    token = created["token"]
    secret = token.split("_")[2]
    reply = await api.call("GET", "/tokens")
    assert reply.status == 200
    listed = [(t["name"], t["scopes"]) for t in reply.body]
    assert listed == [("admin", ["admin"]), ("ci", ["read"])]
    assert all(set(t) == {"id", "name", "scopes", "created_at", "reusable"} for t in reply.body)
    for hidden in (token, secret, hashlib.sha256(secret.encode()).hexdigest(),
                   api.admin.split("_")[2]):
        assert hidden not in reply.text


async def test_a_reusable_token_is_shown_again_and_works(api: Api) -> None:
    body = {"name": "hook for hello", "scopes": ["trigger"], "reuse": True}
    first = await api.ok("POST", "/tokens", 201, json=body)
    again = await api.ok("POST", "/tokens", 200, json=body)
    assert (again["token"], again["id"], again["reusable"]) == (first["token"], first["id"], True)
    other = await api.ok("POST", "/tokens", 201, json={**body, "scopes": ["read"]})
    assert other["token"] != first["token"]
    await api.setup_hello()
    reply = await api.call("POST", "/projects/hello/+trigger", token=first["token"])
    assert reply.status == 201
    secret = first["token"].split("_")[2]
    listing = await api.call("GET", "/tokens")
    assert secret not in listing.text
    await api.ok("DELETE", f"/tokens/{first['id']}")
    renewed = await api.ok("POST", "/tokens", 201, json=body)
    assert renewed["token"] != first["token"]
    reply = await api.call("POST", "/projects/hello/+trigger", token=first["token"])
    assert reply.status == 401
    bad = await api.call("POST", "/tokens", json={**body, "reuse": "yes"})
    assert (bad.status, bad.error) == (
        400, "expected a JSON object with 'name', 'scopes' and optionally 'reuse'")


async def test_rebuild_and_prune_over_the_api(api: Api) -> None:
    await api.setup_hello()
    first = await api.ok("POST", "/projects/hello/+trigger", 201,
                         json={"parameters": {"greeting": "yo", "ick_trigger": "hook"}})
    assert first["parameters"]["ick_trigger"] == "hook"
    again = await api.ok("POST", f"/builds/{first['id']}/+rebuild", 201)
    assert again["parameters"] == {"greeting": "yo", "keep": 1, "ick_trigger": "rebuild"}
    assert again["number"] == first["number"] + 1
    report = await api.ok("POST", "/prune", json={"dry_run": True})
    assert report["dry_run"] is True and report["bytes_freed"] == 0
    assert [r["what"] for r in report["removed"]] == [
        "builds", "logs", "artifact blobs", "workspaces", "git mirrors", "cached systrees"]
    bad = await api.call("POST", "/prune", json={"dry_run": 1})
    assert (bad.status, bad.error) == (
        400, "expected a JSON object with an optional 'dry_run' (true or false)")
    claimed = await api.call("POST", "/projects/hello/+trigger",
                             json={"parameters": {"ick_trigger": "schedule"}})
    assert (claimed.status, claimed.error) == (
        400, "parameters: ick_trigger must be one of api, hook, not 'schedule'")


async def test_a_revoked_token_gets_401(api: Api) -> None:
    created = await api.ok("POST", "/tokens", 201, json={"name": "ci", "scopes": ["read"]})
    assert await api.ok("GET", "/projects", token=created["token"]) == []
    assert await api.ok("DELETE", f"/tokens/{created['id']}") == {"revoked": created["id"]}
    reply = await api.call("GET", "/projects", token=created["token"])
    assert (reply.status, reply.error) == (401, INVALID)
    reply = await api.call("DELETE", f"/tokens/{created['id']}")
    assert (reply.status, reply.error) == (404, f"no token with id {created['id']!r}")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "expected a JSON object with 'name' and 'scopes'"),
        ({"scopes": ["read"]}, "name: expected a string"),
        ({"name": "x", "scopes": "read"}, "scopes: expected a list of strings"),
        ({"name": "x", "scopes": [1]}, "scopes: expected a list of strings"),
        ({"name": "x", "scopes": ["god"]},
         "unknown scope 'god' (expected one of: read, trigger, write, worker, admin)"),
        ({"name": "x", "scopes": []}, "a token needs at least one scope"),
        ({"name": "", "scopes": ["read"]}, "a token needs a name of 1 to 200 printable characters"),
        ({"name": "\ud800", "scopes": ["read"]},
         "a token needs a name of 1 to 200 printable characters"),
    ],
)
async def test_creating_a_token_checks_its_name_and_scopes(
    api: Api, body: Any, message: str
) -> None:
    reply = await api.call("POST", "/tokens", json=body)
    assert (reply.status, reply.error) == (400, message)


# input errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("PUT", "/projects/p", b"{not json", "request body is not valid JSON: "),
        ("PUT", "/pipelines/pl", b"\xff\xfe\x00", "request body is not valid JSON: "),
        ("POST", "/tokens", b'{"name": "x",', "request body is not valid JSON: "),
        ("POST", "/projects/hello/+trigger", b"[1", "request body is not valid JSON: "),
        ("PUT", "/projects/p", b"[1, 2]", "expected a JSON object describing project 'p'"),
        ("PUT", "/projects/p", b"", "expected a JSON object describing project 'p'"),
        ("PUT", "/pipelines/pl", b'"pl"', "expected a JSON object describing pipeline 'pl'"),
        ("PUT", "/projects/p", b'{"project": "q"}',
         "project name 'q' in the body differs from 'p' in the path"),
        ("PUT", "/projects/p", b'{"pipelines": "greet"}',
         "project 'p': 'pipelines' must be a list of names, not 'greet'"),
        ("POST", "/projects/hello/+trigger", b"[]",
         "expected a JSON object with an optional 'parameters' object"),
        ("POST", "/projects/hello/+trigger", b'{"params": {}}',
         "expected a JSON object with an optional 'parameters' object"),
        ("POST", "/projects/hello/+trigger", b'{"parameters": [1]}',
         "parameters: expected a JSON object"),
        ("POST", "/work", b'{"name": ""}', WORKER_NAME),
        ("POST", "/work", b'{"name": "a\\nb"}', WORKER_NAME),
        ("POST", "/work", b'{"name": "\\ud800"}', WORKER_NAME),
        ("POST", "/work", b'{"name": 7}', WORKER_NAME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": "x"}', OUTCOME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": [1]}', OUTCOME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": 1000000000000000000000}', OUTCOME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": 0, "duration": "inf"}', OUTCOME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": 0, "duration": -1}', OUTCOME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": 0, "duration": "slow"}', OUTCOME),
        ("PUT", "/projects/p", b"[" * 100_000, "request body is not valid JSON: nested too deeply"),
        ("POST", "/projects/hello/+trigger", b'{"parameters": {"x": 1e999}}',
         "request body is not valid JSON: 1e999 is not a finite number"),
        ("POST", "/projects/hello/+trigger", b'{"parameters": {"x": NaN}}',
         "request body is not valid JSON: NaN is not a finite number"),
        ("POST", "/tokens", b"-Infinity",
         "request body is not valid JSON: -Infinity is not a finite number"),
        ("PUT", "/projects/p", b'{"parameters": {"n": ' + b"9" * 5000 + b"}}",
         "request body is not valid JSON: a number has too many digits"),
        ("POST", "/work/1/0/done?worker=w", b"[]",
         "expected a JSON object with the action's outcome"),
        ("POST", "/work/x/0/done?worker=w", b"{}", "build and seq must be numbers"),
        ("POST", "/work/1/0/done", b"{}", "missing ?worker=ID (register at POST /work first)"),
        ("GET", "/work?worker=w&timeout=soon", b"", "timeout: expected a number of seconds"),
        ("GET", "/work?worker=w&timeout=nan", b"", "timeout: expected a number of seconds"),
    ],
)
async def test_bad_bodies_get_400_with_a_message(
    api: Api, method: str, path: str, body: bytes, message: str
) -> None:
    await api.setup_hello()
    reply = await api.call(method, path, data=body,
                           headers={"Content-Type": "application/json"})
    assert reply.status == 400, reply.text
    if message.endswith(": "):
        assert reply.error.startswith(message), reply.error
    else:
        assert reply.error == message


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/projects/bad%20name", "bad name 'bad name': use letters, digits, '.', '_', '-' and '/'"),
        ("/projects/caf%C3%A9", "bad name 'café': use letters, digits, '.', '_', '-' and '/'"),
        ("/projects/a%2F..%2Fb", "bad name 'a/../b': use letters, digits, '.', '_', '-' and '/'"),
        ("/projects/a%2F%2Fb", "bad name 'a//b': use letters, digits, '.', '_', '-' and '/'"),
        ("/pipelines/a%3Bb", "bad name 'a;b': use letters, digits, '.', '_', '-' and '/'"),
        ("/projects/a%00/+trigger",
         "bad name 'a\\x00': use letters, digits, '.', '_', '-' and '/'"),
        ("/builds/abc", "bad build id 'abc': expected a number"),
        ("/builds/-1", "bad build id '-1': expected a number"),
        ("/builds/1.5", "bad build id '1.5': expected a number"),
        ("/builds/1234567890123456789", "bad build id '1234567890123456789': expected a number"),
        ("/builds/x/log", "bad build id 'x': expected a number"),
        ("/builds?limit=x", "limit: expected a whole number from 1 to 10000, got 'x'"),
        ("/builds?limit=0", "limit: expected a whole number from 1 to 10000, got '0'"),
        ("/builds?limit=10001", "limit: expected a whole number from 1 to 10000, got '10001'"),
        ("/builds?limit=-5", "limit: expected a whole number from 1 to 10000, got '-5'"),
    ],
)
async def test_bad_names_ids_and_query_args_get_400(api: Api, path: str, message: str) -> None:
    method = "POST" if path.endswith("+trigger") else "GET"
    reply = await api.call(method, path)
    assert (reply.status, reply.error) == (400, message)


@pytest.mark.parametrize("offset", ["-1", "x", "1e3", str(2**62 + 1)])
async def test_a_bad_log_offset_gets_400(api: Api, offset: str) -> None:
    await api.setup_hello()
    build = await api.ok("POST", "/projects/hello/+trigger", 201)
    reply = await api.call("GET", f"/builds/{build['id']}/log?offset={offset}")
    assert reply.status == 400
    assert reply.error == (
        f"offset: expected a whole number from 0 to {2**62}, got {offset!r}")


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/projects/nope", "no project 'nope'"),
        ("DELETE", "/projects/nope", "no project 'nope'"),
        ("POST", "/projects/nope/+trigger", "no project 'nope'"),
        ("GET", "/projects/no%2Fpe", "no project 'no/pe'"),
        ("GET", "/pipelines/nope", "no pipeline 'nope'"),
        ("DELETE", "/pipelines/nope", "no pipeline 'nope'"),
        ("GET", "/builds/999", "no build 999"),
        ("GET", "/builds/999/log", "no build 999"),
        ("POST", "/builds/999/+cancel", "no build 999"),
        ("POST", "/builds/999/+rebuild", "no build 999"),
        ("DELETE", "/tokens/nope", "no token with id 'nope'"),
        ("GET", "/artifacts/nope", "no artifact 'nope'"),
        ("DELETE", "/artifacts/nope", "no artifact 'nope'"),
        ("GET", "/work?worker=nobody", "no worker 'nobody': register again"),
        ("GET", "/no/such/route", "not found"),
    ],
)
async def test_missing_things_get_404(api: Api, method: str, path: str, message: str) -> None:
    reply = await api.call(method, path)
    assert (reply.status, reply.error) == (404, message)


async def test_a_wrong_method_gets_a_json_405(api: Api) -> None:
    reply = await api.call("PATCH", "/projects")
    assert (reply.status, reply.error) == (405, "method not allowed")


# projects and pipelines ------------------------------------------------------------


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


# triggering and builds ----------------------------------------------------------


async def test_trigger_answers_201_with_the_new_build(api: Api) -> None:
    await api.setup_hello()
    build = await api.ok("POST", "/projects/hello/+trigger", 201)
    assert {"id", "project", "number", "state", "parameters", "queued_at", "started_at",
            "finished_at", "actions"} <= set(build)
    assert (build["project"], build["number"], build["state"]) == ("hello", 1, "queued")
    assert build["parameters"] == {"greeting": "hi", "keep": 1, "ick_trigger": "api"}
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
    expected = {"greeting": "bye", "keep": 1, "git_commit": "9f1c", "ick_trigger": "api"}
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


async def test_cancelling_a_queued_build(api: Api) -> None:
    await api.setup_hello()
    build = await api.ok("POST", "/projects/hello/+trigger", 201)
    cancelled = await api.ok("POST", f"/builds/{build['id']}/+cancel")
    assert cancelled["state"] == "cancelled"
    assert [a["state"] for a in cancelled["actions"]] == ["skipped", "skipped"]
    assert cancelled["finished_at"] is not None
    reply = await api.call("POST", f"/builds/{build['id']}/+cancel")
    assert (reply.status, reply.error) == (
        409, f"build {build['id']} has already ended (cancelled)")
    log = await api.call("GET", f"/builds/{build['id']}/log")
    assert log.status == 200
    assert log.text.endswith(f"ick: build {build['id']} cancelled\n")


async def test_a_build_runs_over_the_work_protocol(api: Api) -> None:
    """Play a remote worker: register, take each action, stream output, report exits."""
    await api.setup_hello()
    worker = (await api.ok("POST", "/work", 201, json={"name": "remote"}))["worker"]
    assert worker.startswith("remote-")
    build = await api.ok("POST", "/projects/hello/+trigger", 201)
    bid = build["id"]

    item = await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
    assert (item["build_id"], item["seq"], item["total"]) == (bid, 0, 2)
    assert (item["project"], item["number"]) == ("hello", 1)
    assert item["action"] == PIPELINE["actions"][0]
    assert item["parameters"] == {"greeting": "hi", "keep": 1, "ick_trigger": "api"}
    assert (await api.ok("GET", f"/builds/{bid}"))["state"] == "running"
    await api.ok("POST", f"/work/{bid}/0/output?worker={worker}", data=b"hello from 0\n")
    done = {"exit_code": 0, "duration": 0.25}
    assert await api.ok("POST", f"/work/{bid}/0/done?worker={worker}", json=done) == {
        "more": True}

    item = await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
    assert (item["build_id"], item["seq"]) == (bid, 1)
    failed = {"exit_code": 3, "duration": 1.0}
    assert await api.ok("POST", f"/work/{bid}/1/done?worker={worker}", json=failed) == {
        "more": False}

    ended = await api.ok("GET", f"/builds/{bid}")
    assert ended["state"] == "failed"
    assert ended["worker"] == worker
    assert [(a["state"], a["exit_code"], a["duration"], a["message"])
            for a in ended["actions"]] == [
        ("succeeded", 0, 0.25, None), ("failed", 3, 1.0, "exit status 3")]
    log = (await api.call("GET", f"/builds/{bid}/log")).text
    assert "hello from 0\n" in log
    assert log.endswith(f"ick: build {bid} failed\n")
    tail = await api.call("GET", f"/builds/{bid}/log?offset={len(log.encode()) - 6}")
    assert tail.text == "ailed\n"
    # the log of an ended build does not wait, even when followed
    followed = await asyncio.wait_for(api.call("GET", f"/builds/{bid}/log?follow=1"), WAIT)
    assert followed.text == log
    idle = await api.call("GET", f"/work?worker={worker}&timeout=0")
    assert (idle.status, idle.text) == (204, "")


async def test_the_work_protocol_ignores_reports_that_do_not_fit(api: Api) -> None:
    await api.setup_hello()
    worker = (await api.ok("POST", "/work", 201, json={"name": "w"}))["worker"]
    other = (await api.ok("POST", "/work", 201, json={"name": "other"}))["worker"]
    bid = (await api.ok("POST", "/projects/hello/+trigger", 201))["id"]
    assert (await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}"))["seq"] == 0
    await api.ok("POST", f"/work/{bid}/0/output?worker={other}", data=b"not mine\n")
    await api.ok("POST", f"/work/{bid}/1/output?worker={worker}", data=b"not now\n")
    failed = {"exit_code": 1, "duration": 1.0}
    for path in (f"/work/{bid}/0/done?worker={other}", f"/work/{bid}/99/done?worker={worker}",
                 f"/work/{bid}/1/done?worker={worker}"):
        reply = await api.call("POST", path, json=failed)
        assert reply.status == 200, (path, reply.text)
    build = await api.ok("GET", f"/builds/{bid}")
    assert build["state"] == "running"
    assert [a["state"] for a in build["actions"]] == ["running", "pending"]
    reply = await api.call("POST", f"/work/{bid}/0/done?worker={worker}",
                           json={"exit_code": 10**30, "duration": 1.0})
    assert (reply.status, reply.error) == (400, OUTCOME)
    await api.ok("POST", f"/work/{bid}/0/done?worker={worker}", json=failed)
    build = await api.ok("GET", f"/builds/{bid}")
    assert build["state"] == "failed"
    log = (await api.call("GET", f"/builds/{bid}/log")).text
    assert "not mine" not in log and "not now" not in log
    assert log.count("---- exit code") == 1


async def test_cancelling_a_running_build_tells_its_worker(api: Api) -> None:
    await api.setup_hello()
    worker = (await api.ok("POST", "/work", 201, json={}))["worker"]
    assert worker.startswith("worker-")
    bid = (await api.ok("POST", "/projects/hello/+trigger", 201))["id"]
    await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
    waiting = asyncio.create_task(api.call("GET", f"/work/{bid}/0/cancel?worker={worker}"))
    following = asyncio.create_task(api.call("GET", f"/builds/{bid}/log?follow=1"))
    try:
        running = await api.ok("POST", f"/builds/{bid}/+cancel")
        assert running["state"] == "running"  # it ends when the worker stops the action
        told = await asyncio.wait_for(waiting, WAIT)
        assert (told.status, told.body) == (200, {"cancel": True})
        await api.ok("POST", f"/work/{bid}/0/done?worker={worker}",
                     json={"exit_code": -15, "duration": 0.1})
        log = await asyncio.wait_for(following, WAIT)
        assert log.text.endswith(f"ick: build {bid} cancelled\n")
    finally:
        waiting.cancel()
        following.cancel()
    ended = await api.ok("GET", f"/builds/{bid}")
    assert ended["state"] == "cancelled"
    assert [(a["state"], a["message"]) for a in ended["actions"]] == [
        ("cancelled", "cancelled"), ("skipped", None)]


# junk ------------------------------------------------------------------------


def strict_json(constant: str) -> None:
    raise AssertionError(f"the daemon answered with {constant}, which is not JSON")


def junk_bodies() -> list[bytes]:
    rng = random.Random(4250)
    deep = 100_000
    bodies = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(12)]
    bodies += [
        b"", b"null", b"true", b"0", b"-1", b'""', b"[]", b"{}", b"[[]]",
        b"1e999", b"-1e999", b"NaN", b"Infinity", b"9" * 5000, b"1" * 4000,
        b"[" * deep + b"]" * deep, b'{"a":' * deep + b"1" + b"}" * deep,
        b'"\\ud800"', b'{"name": "\\ud800", "scopes": ["read"]}',
        b'{"parameters": {"x": 1e999}}', b'{"parameters": {"x": ' + b"9" * 5000 + b"}}",
        b'{"parameters": ' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"parameters": {"\\u0000": "\\u0000"}}', b'{"parameters": null}',
        b'{"project": 1}', b'{"project": "\xc3\xa9"}', b'{"pipeline": null, "actions": {}}',
        b'{"pipelines": [null, 1, {}]}', b'{"notify": [{"email": 1}]}',
        b'{"actions": [{"shell": 1}, "x", null, {"where": "moon"}]}',
        b'{"exit_code": "x"}', b'{"exit_code": 1e999}', b'{"exit_code": [1]}',
        b'{"exit_code": 1, "duration": "slow"}', b'{"duration": {}}', b'{"details": 1}',
        b'{"exit_code": 99999999999999999999999999}', b'{"name": 5}',
        b'{"name": "' + b"x" * 500 + b'"}', b'{"timed_out": "yes", "message": 7}',
        "\u2603".encode("utf-16"), b"\xef\xbb\xbf{}",
    ]
    return bodies


JUNK_TARGETS = [
    ("PUT", "/artifacts/junk"),
    ("PUT", "/projects/hello"),
    ("PUT", "/projects/j\u00fcnk"),
    ("PUT", "/pipelines/greet"),
    ("PUT", "/pipelines/new/one"),
    ("POST", "/projects/hello/+trigger"),
    ("POST", "/tokens"),
    ("POST", "/work"),
    ("POST", "/work/1/0/done?worker=nobody"),
    ("POST", "/work/1/0/output?worker=nobody"),
    ("POST", "/builds/1/+cancel"),
    ("POST", "/builds/1/+rebuild"),
    ("POST", "/prune"),
]

JUNK_PATHS = [
    "/projects/\u2603", "/projects/%E2%98%83", "/projects/%ff%fe", "/projects/%00",
    "/projects/" + "a" * 5000, "/projects/..", "/projects/.", "/projects/a/./b",
    "/projects//", "/projects/a%2F", "/pipelines/%2F%2F", "/builds/%F0%9F%92%A9",
    "/builds/\u00b2", "/builds/\u0663", "/builds/99999999999999999", "/builds/0",
    "/builds/00000000000000000001", "/builds/1/log?offset=\u00b2",
    "/builds/1/log?offset=99999999999999999999999999999",
    "/builds?limit=\u00b2", "/builds?limit=\u0663", "/builds?limit=1e3",
    "/builds?project=%00", "/builds?project=" + "\u2603" * 100,
    "/work?worker=nobody&timeout=nan", "/work?worker=nobody&timeout=-inf",
    "/work?worker=nobody&timeout=1e999", "/work/\u00b2/0/cancel?worker=x",
    "/work/99999999999999999999999/0/cancel?worker=x", "/work?worker=",
    "/tokens/%00", "/tokens/" + "x" * 3000, "/tokens/%ED%A0%80", "/projects/%ED%A0%80",
    "/builds?project=%ED%A0%80", "/builds?project=%ff",
    "/projects/hello/+trigger/+trigger", "/projects/+trigger",
    "/artifacts/%00", "/artifacts/..%2Fx", "/artifacts/\u2603", "/artifacts/" + "a" * 3000,
]


async def test_junk_never_makes_a_500_and_errors_are_always_json(api: Api) -> None:
    await api.setup_hello()
    seen: set[int] = set()

    def check(reply: Reply, what: str) -> None:
        seen.add(reply.status)
        assert reply.status < 500, f"{what}: {reply.status} {reply.text[:300]}"
        if reply.status >= 400:
            assert reply.error, what
        elif reply.status != 204 and not reply.text.startswith("<!doctype html>"):
            # (the client makes "/projects/.." into "/", which leads to the web UI's login page)
            json.loads(reply.text, parse_constant=strict_json)  # no NaN or Infinity

    json_type = {"Content-Type": "application/json"}
    for method, path in JUNK_TARGETS:
        for index, body in enumerate(junk_bodies()):
            reply = await api.call(method, path, data=body, headers=json_type)
            check(reply, f"{method} {path} body {index} {body[:60]!r}")
        for content_type in ("text/plain", "application/json; charset=no-such-charset",
                             "application/json; charset=utf-16", "multipart/form-data"):
            reply = await api.call(method, path, data=b'{"a": 1}',
                                   headers={"Content-Type": content_type})
            check(reply, f"{method} {path} as {content_type}")
    for path in JUNK_PATHS:
        for method in ("GET", "PUT", "POST", "DELETE"):
            reply = await api.call(method, path, json={"parameters": {}})
            check(reply, f"{method} {path[:80]}")
    for token in ("ick_\u2603_\u2603", "ick_" + "a" * 5000 + "_b", "ick_\xff_\xff", "Bearer " * 50):
        reply = await api.call("GET", "/projects", token=token)
        check(reply, f"token {token[:40]!r}")
        assert reply.status == 401
    # the loop reached the handlers, not just the auth check
    assert {200, 201, 400, 404, 409} <= seen
    # and the daemon still works
    assert (await api.ok("GET", "/projects/hello"))["project"] == "hello"
