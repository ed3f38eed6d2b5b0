"""Tokens and scopes on every route of the HTTP API, through `aiohttp_client` on the real
services (tests/api/conftest.py): 401 without a valid token, 403 without the scope."""

from __future__ import annotations

import pytest

from tests.api.apiclient import Api

# What each route needs. Paths name things that do not exist: the scope check comes first.
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/projects", "read"),
    ("GET", "/projects/p", "read"),
    ("PUT", "/projects/p", "write"),
    ("DELETE", "/projects/p", "write"),
    ("POST", "/projects/p/+trigger", "trigger"),
    ("GET", "/projects/p/feed.atom", "read"),
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


async def test_version_needs_no_token(api: Api) -> None:
    assert await api.ok("GET", "/version", token=None) == {"name": "ick", "version": "0.1.0"}


async def test_the_admin_token_file_is_private_and_works(api: Api) -> None:
    path = api.svc.settings.state_dir / "admin.token"
    assert path.stat().st_mode & 0o777 == 0o600
    assert api.admin.startswith("ick_")
    assert await api.ok("GET", "/projects") == []


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
