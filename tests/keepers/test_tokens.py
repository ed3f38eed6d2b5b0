"""The token keeper (ick/api/auth.py) over its store on a real SQLite file: hashes only,
scopes, refusals, revoking, restarts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ick.errors import AuthError, ForbiddenError, InputError, NotFoundError
from ick.keepers.tokens import TokenKeeper
from ick.storage.db import Database
from ick.storage.tokens import TokenStore
from tests.databases import opened


async def keeper_on(db: Database) -> TokenKeeper:
    keeper = TokenKeeper(TokenStore(db))
    await keeper.load()
    return keeper


async def test_a_token_is_stored_only_as_a_hash(db: Database, db_path: Path) -> None:
    keeper = await keeper_on(db)
    token, record = await keeper.create("ci", ["read", "trigger"])
    prefix, key_id, secret = token.split("_")
    assert (prefix, key_id) == ("ick", record.key_id)
    assert len(secret) >= 32
    stored = db_path.read_bytes() + Path(f"{db_path}-wal").read_bytes()
    assert key_id.encode() in stored  # the row is there...
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored
    assert secret.encode() not in stored  # ...but not the secret
    assert token.encode() not in stored
    assert "hash" not in record.to_json()
    assert record.to_json()["scopes"] == ["read", "trigger"]


async def test_check_accepts_a_token_with_the_scope(db: Database) -> None:
    keeper = await keeper_on(db)
    token, record = await keeper.create("ci", ["read", "trigger"])
    assert keeper.check(f"Bearer {token}", "read") == record
    assert keeper.check(f"bearer {token}", "trigger") == record
    assert keeper.check(f"Bearer  {token} ", "read") == record


@pytest.mark.parametrize("scope", ["write", "worker", "admin"])
async def test_check_forbids_a_token_without_the_scope(db: Database, scope: str) -> None:
    keeper = await keeper_on(db)
    token, _ = await keeper.create("ci", ["read", "trigger"])
    with pytest.raises(ForbiddenError) as raised:
        keeper.check(f"Bearer {token}", scope)
    assert raised.value.message == f"token 'ci' lacks the '{scope}' scope"


@pytest.mark.parametrize("scope", ["read", "trigger", "write", "worker", "admin"])
async def test_admin_implies_every_scope(db: Database, scope: str) -> None:
    keeper = await keeper_on(db)
    token, record = await keeper.create("root", ["admin"])
    assert keeper.check(f"Bearer {token}", scope) == record


MISSING = "missing token: send 'Authorization: Bearer TOKEN'"


BAD_HEADER = "bad authorization header: expected 'Bearer TOKEN'"


INVALID = "invalid token"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, MISSING),
        ("", MISSING),
        ("Bearer", BAD_HEADER),
        ("Bearer   ", BAD_HEADER),
        ("Basic dXNlcjpwYXNz", BAD_HEADER),
        ("TOKEN", BAD_HEADER),
        ("Bearer garbage", INVALID),
        ("Bearer ick__x", INVALID),
        ("Bearer ick_0123456789ab_secret", INVALID),  # unknown id
        ("Bearer ick_a_b_c", INVALID),
        ("Bearer \u00e9\u00e9\u00e9", INVALID),
    ],
)
async def test_check_rejects_what_is_not_a_known_token(
    db: Database, header: str | None, message: str
) -> None:
    keeper = await keeper_on(db)
    await keeper.create("ci", ["read"])
    with pytest.raises(AuthError) as raised:
        keeper.check(header, "read")
    assert raised.value.message == message


async def test_check_rejects_a_known_id_with_the_wrong_secret(db: Database) -> None:
    keeper = await keeper_on(db)
    token, record = await keeper.create("ci", ["read"])
    with pytest.raises(AuthError, match="^invalid token$"):
        keeper.check(f"Bearer ick_{record.key_id}_{'x' * 43}", "read")
    with pytest.raises(AuthError, match="^invalid token$"):
        keeper.check(f"Bearer {token}x", "read")


async def test_tokens_survive_a_restart_and_revoked_ones_do_not(db_path: Path) -> None:
    async with opened(db_path) as db:
        keeper = await keeper_on(db)
        kept, _ = await keeper.create("kept", ["read"])
        gone, gone_record = await keeper.create("gone", ["read"])
        await keeper.revoke(gone_record.key_id)
        with pytest.raises(AuthError, match="^invalid token$"):
            keeper.check(f"Bearer {gone}", "read")
        with pytest.raises(NotFoundError) as raised:
            await keeper.revoke(gone_record.key_id)
        assert raised.value.message == f"no token with id {gone_record.key_id!r}"

    async with opened(db_path) as db:
        keeper = await keeper_on(db)
        assert [t.name for t in keeper.list()] == ["kept"]
        assert keeper.check(f"Bearer {kept}", "read").name == "kept"
        with pytest.raises(AuthError, match="^invalid token$"):
            keeper.check(f"Bearer {gone}", "read")


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("ci", ["read", "root"],
         "unknown scope 'root' (expected one of: read, trigger, write, deploy, worker, admin)"),
        ("ci", [], "a token needs at least one scope"),
        ("", ["read"], "a token needs a name of 1 to 200 printable characters"),
        ("x" * 201, ["read"], "a token needs a name of 1 to 200 printable characters"),
        ("two\nlines", ["read"], "a token needs a name of 1 to 200 printable characters"),
        ("\ud800", ["read"], "a token needs a name of 1 to 200 printable characters"),
    ],
)
async def test_create_rejects_bad_names_and_scopes(
    db: Database, name: str, scopes: list[str], message: str
) -> None:
    keeper = await keeper_on(db)
    with pytest.raises(InputError) as raised:
        await keeper.create(name, scopes)
    assert raised.value.message == message
    assert len(keeper) == 0
    assert await TokenStore(db).all() == []
