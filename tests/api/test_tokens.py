"""The token routes (ick/api/tokens.py) on the real services: listing never shows a secret,
reusable tokens, revoking, checks on names and scopes."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.api.apiclient import Api

INVALID = "invalid token"


async def test_token_listing_never_shows_a_secret_or_a_hash(api: Api) -> None:
    created = await api.ok("POST", "/tokens", 201, json={"name": "ci", "scopes": ["read"]})
    assert set(created) == {"id", "name", "scopes", "created_at", "reusable", "projects", "token"}
    assert (created["name"], created["scopes"], created["reusable"]) == ("ci", ["read"], False)
    token = created["token"]
    secret = token.split("_")[2]
    reply = await api.call("GET", "/tokens")
    assert reply.status == 200
    listed = [(t["name"], t["scopes"]) for t in reply.body]
    assert listed == [("admin", ["admin"]), ("ci", ["read"])]
    assert all(set(t) == {"id", "name", "scopes", "created_at", "reusable", "projects"}
               for t in reply.body)
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
         "unknown scope 'god' (expected one of: read, trigger, write, deploy, worker, admin)"),
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
