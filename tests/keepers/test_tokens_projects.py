"""Tokens bound to projects (ick/keepers/tokens.py, ick/storage/tokens.py): minted, kept
across a restart, matched by glob, reused by `ick hook` for the same project only."""

from __future__ import annotations

import pytest

from ick.errors import ForbiddenError, InputError, NotFoundError
from ick.keepers.tokens import TokenKeeper, check_project, check_unbound
from ick.storage.db import Database
from ick.storage.tokens import TokenStore


async def test_a_bound_token_acts_only_on_matching_projects(db: Database) -> None:
    keeper = TokenKeeper(TokenStore(db), reuse_key=b"k" * 32)
    token, record = await keeper.create("liw", ["read"], projects=["liw/*", "hello"])
    assert record.projects == ("liw/*", "hello")
    assert [record.binds(n) for n in ("liw/site", "liw/a/b", "hello", "hello2", "Liw/x")] == [
        True, True, True, False, False]
    check_project(record, "liw/site", "no project")
    with pytest.raises(NotFoundError, match="^no project 'x'$"):
        check_project(record, "x", "no project 'x'")
    with pytest.raises(ForbiddenError, match="is bound to projects"):
        check_unbound(record)
    assert keeper.check(f"Bearer {token}", "read") == record
    again = TokenKeeper(TokenStore(db))
    await again.load()
    assert again.record(record.key_id) == record
    _, unbound = await keeper.create("all", ["read"])
    assert unbound.projects is None and unbound.binds("anything")
    check_unbound(unbound)


async def test_reuse_is_per_name_scopes_and_projects(db: Database) -> None:
    keeper = TokenKeeper(TokenStore(db), reuse_key=b"k" * 32)
    first, _, new = await keeper.reuse("hook for a", ["trigger"], ["a"])
    assert new
    assert (await keeper.reuse("hook for a", ["trigger"], ["a"]))[:3:2] == (first, False)
    other, _, new = await keeper.reuse("hook for a", ["trigger"])
    assert new and other != first


@pytest.mark.parametrize(("scopes", "projects", "message"), [
    (["read"], [], "projects: expected 1 to 100 globs"),
    (["read"], [""], "projects: each glob must be 1 to 200 printable characters"),
    (["read", "worker"], ["a"], "cannot carry the 'worker' scope"),
    (["admin"], ["a"], "cannot carry the 'admin' scope"),
])
async def test_a_binding_is_checked(db: Database, scopes: list[str], projects: list[str],
                                    message: str) -> None:
    with pytest.raises(InputError, match=message):
        await TokenKeeper(TokenStore(db)).create("x", scopes, projects=projects)
