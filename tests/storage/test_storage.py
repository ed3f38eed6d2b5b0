"""ick/storage and ick/auth.py against a real SQLite file in tmp_path, and real log files."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ick.errors import AuthError, ForbiddenError, InputError, NotFoundError
from ick.keepers.tokens import TokenKeeper
from ick.model import ActionRecord, ActionState, BuildState, Pipeline, Project
from ick.storage.builds import BuildStore
from ick.storage.db import MIGRATIONS, Database, Tx
from ick.storage.logs import LogStore
from ick.storage.resources import ResourceStore
from ick.storage.tokens import TokenStore

T0 = "2024-01-01T00:00:00.000Z"
T1 = "2024-01-01T00:00:01.000Z"
WAIT = 5.0  # the most any awaited event may take before the test fails


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ick.db"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    opened = await Database.open(db_path)
    yield opened
    await opened.close()


async def user_version(db: Database) -> int:
    return int((await db.fetchall("PRAGMA user_version"))[0][0])


def actions(n: int) -> list[ActionRecord]:
    return [
        ActionRecord(pipeline="pl", index=i, kind="shell", where="host", spec={"shell": f"s{i}"})
        for i in range(n)
    ]


# the database --------------------------------------------------------------------


async def test_open_migrates_a_new_database_and_a_second_open_changes_nothing(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ick.storage.db")
    db = await Database.open(db_path)
    try:
        assert await user_version(db) == len(MIGRATIONS)
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {r[0] for r in rows}
        assert {"projects", "pipelines", "builds", "build_actions", "tokens"} <= tables
        assert (await db.fetchall("PRAGMA journal_mode"))[0][0] == "wal"
        await ResourceStore(db).put_project(Project("kept"))
    finally:
        await db.close()
    migrated = [r.getMessage() for r in caplog.records if "migrating" in r.getMessage()]
    assert migrated == [f"migrating database schema to version {n}"
                        for n in range(1, len(MIGRATIONS) + 1)]
    caplog.clear()

    db = await Database.open(db_path)
    try:
        assert await user_version(db) == len(MIGRATIONS)
        assert [p.name for p in await ResourceStore(db).projects()] == ["kept"]
    finally:
        await db.close()
    assert not [r for r in caplog.records if "migrating" in r.getMessage()]


async def test_a_failing_write_is_rolled_back(db: Database) -> None:
    async def half(tx: Tx) -> None:
        await tx.execute("INSERT INTO projects (name, doc, updated_at) VALUES ('x', '{}', 'now')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await db.write(half)
    assert await db.fetchall("SELECT name FROM projects") == []


# builds ------------------------------------------------------------------------


async def test_builds_are_numbered_per_project_and_identified_globally(db: Database) -> None:
    store = BuildStore(db)
    made = [await store.create(p, {}, False, [], T0) for p in ("a", "a", "b", "a")]
    assert [(b.project, b.number) for b in made] == [("a", 1), ("a", 2), ("b", 1), ("a", 3)]
    assert [b.id for b in made] == [1, 2, 3, 4]
    assert all(b.state == BuildState.QUEUED for b in made)


async def test_create_stores_the_build_with_pending_actions(db: Database) -> None:
    store = BuildStore(db)
    made = await store.create("a", {"x": [1, {"y": None}]}, True, actions(2), T0)
    got = await store.get(made.id)
    assert got is not None
    assert (got.project, got.number, got.state, got.parameters, got.concurrent, got.queued_at) == (
        "a", 1, BuildState.QUEUED, {"x": [1, {"y": None}]}, True, T0)
    assert (got.started_at, got.finished_at, got.worker) == (None, None, None)
    assert [(a.pipeline, a.index, a.kind, a.where, a.spec, a.state) for a in got.actions] == [
        ("pl", 0, "shell", "host", {"shell": "s0"}, ActionState.PENDING),
        ("pl", 1, "shell", "host", {"shell": "s1"}, ActionState.PENDING),
    ]
    assert await store.get(made.id + 1) is None
    assert await store.exists(made.id)
    assert not await store.exists(made.id + 1)


async def test_save_persists_the_build_and_only_the_given_actions(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        store = BuildStore(db)
        build = await store.create("a", {}, False, actions(3), T0)
        build.state, build.started_at, build.finished_at, build.worker = (
            BuildState.FAILED, T0, T1, "local0-ab12")
        first, second, third = build.actions
        first.state, first.exit_code, first.duration = ActionState.SUCCEEDED, 0, 0.5
        first.details = {"git": [{"commit": "abc"}]}
        second.state, second.exit_code, second.message = ActionState.FAILED, 2, "exit status 2"
        third.state = ActionState.SKIPPED  # changed in memory, not saved
        await store.save(build, (0, 1))
    finally:
        await db.close()

    db = await Database.open(db_path)
    try:
        got = await BuildStore(db).get(build.id)
    finally:
        await db.close()
    assert got is not None
    assert (got.state, got.started_at, got.finished_at, got.worker) == (
        BuildState.FAILED, T0, T1, "local0-ab12")
    assert [(a.state, a.exit_code, a.duration, a.message, a.details) for a in got.actions] == [
        (ActionState.SUCCEEDED, 0, 0.5, None, {"git": [{"commit": "abc"}]}),
        (ActionState.FAILED, 2, None, "exit status 2", {}),
        (ActionState.PENDING, None, None, None, {}),
    ]


async def test_in_state_gives_oldest_first_with_actions(db: Database) -> None:
    store = BuildStore(db)
    b1 = await store.create("a", {}, False, actions(1), T0)
    b2 = await store.create("b", {}, False, actions(2), T0)
    b3 = await store.create("a", {}, False, [], T0)
    b2.state = BuildState.RUNNING
    await store.save(b2)
    queued = await store.in_state(BuildState.QUEUED)
    assert [b.id for b in queued] == [b1.id, b3.id]
    assert [len(b.actions) for b in queued] == [1, 0]
    running = await store.in_state(BuildState.RUNNING)
    assert [(b.id, len(b.actions)) for b in running] == [(b2.id, 2)]
    assert await store.in_state(BuildState.FAILED) == []


async def test_list_gives_newest_first_up_to_the_limit(db: Database) -> None:
    store = BuildStore(db)
    for project in ("a", "b", "a", "a", "b"):
        await store.create(project, {}, False, actions(1), T0)
    assert [b.id for b in await store.list()] == [5, 4, 3, 2, 1]
    assert [b.id for b in await store.list(limit=2)] == [5, 4]
    assert [(b.id, b.number) for b in await store.list("a")] == [(4, 3), (3, 2), (1, 1)]
    assert [b.id for b in await store.list("a", limit=1)] == [4]
    assert await store.list("nobody") == []
    assert all(b.actions == [] for b in await store.list())  # listings leave actions out


async def test_previous_outcome_is_the_last_finished_build_of_the_same_project(
    db: Database,
) -> None:
    store = BuildStore(db)
    states = [BuildState.FAILED, BuildState.SUCCEEDED, BuildState.RUNNING, BuildState.QUEUED]
    made = []
    for state in states:
        build = await store.create("a", {}, False, [], T0)
        build.state = state
        await store.save(build)
        made.append(build)
        other = await store.create("b", {}, False, [], T0)  # interleaved, never counts
        other.state = BuildState.CANCELLED
        await store.save(other)
    later = await store.create("a", {}, False, [], T0)
    assert await store.previous_outcome("a", made[0].id) is None
    assert await store.previous_outcome("a", made[1].id) == BuildState.FAILED
    # running and queued builds have no outcome yet: skipped over
    assert await store.previous_outcome("a", later.id) == BuildState.SUCCEEDED
    assert await store.previous_outcome("c", later.id) is None


# projects and pipelines -----------------------------------------------------------


async def test_projects_put_get_delete_and_the_cache_follows(db: Database) -> None:
    store = ResourceStore(db)
    assert await store.project("liw/site") is None  # caches the absence
    await store.put_project(Project("liw/site", {"a": 1}, ["pl"]))
    got = await store.project("liw/site")
    assert got is not None
    assert (got.parameters, got.pipelines) == ({"a": 1}, ["pl"])
    await store.put_project(Project("liw/site", {"a": 2}, [], concurrent=True))
    got = await store.project("liw/site")
    assert got is not None
    assert (got.parameters, got.pipelines, got.concurrent) == ({"a": 2}, [], True)
    await store.put_project(Project("alpha"))
    assert [p.name for p in await store.projects()] == ["alpha", "liw/site"]
    # another store on the same database (no shared cache) reads what was written
    fresh = await ResourceStore(db).project("liw/site")
    assert fresh is not None and fresh.to_doc() == got.to_doc()

    assert await store.delete_project("liw/site") is True
    assert await store.project("liw/site") is None
    assert await store.delete_project("liw/site") is False
    assert [p.name for p in await store.projects()] == ["alpha"]


async def test_pipelines_put_get_delete_and_the_cache_follows(db: Database) -> None:
    store = ResourceStore(db)
    assert await store.pipeline("build") is None
    await store.put_pipeline(Pipeline("build", ["x"], [{"shell": "true", "where": "host"}]))
    got = await store.pipeline("build")
    assert got is not None
    assert got.to_doc() == {"pipeline": "build", "parameters": ["x"],
                            "actions": [{"shell": "true", "where": "host"}]}
    await store.put_pipeline(Pipeline("build", [], []))
    got = await store.pipeline("build")
    assert got is not None and (got.parameters, got.actions) == ([], [])
    assert [p.name for p in await store.pipelines()] == ["build"]
    assert await store.delete_pipeline("build") is True
    assert await store.pipeline("build") is None
    assert await store.delete_pipeline("build") is False
    assert await store.pipelines() == []


# tokens ----------------------------------------------------------------------


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
    db = await Database.open(db_path)
    try:
        keeper = await keeper_on(db)
        kept, _ = await keeper.create("kept", ["read"])
        gone, gone_record = await keeper.create("gone", ["read"])
        await keeper.revoke(gone_record.key_id)
        with pytest.raises(AuthError, match="^invalid token$"):
            keeper.check(f"Bearer {gone}", "read")
        with pytest.raises(NotFoundError) as raised:
            await keeper.revoke(gone_record.key_id)
        assert raised.value.message == f"no token with id {gone_record.key_id!r}"
    finally:
        await db.close()

    db = await Database.open(db_path)
    try:
        keeper = await keeper_on(db)
        assert [t.name for t in keeper.list()] == ["kept"]
        assert keeper.check(f"Bearer {kept}", "read").name == "kept"
        with pytest.raises(AuthError, match="^invalid token$"):
            keeper.check(f"Bearer {gone}", "read")
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("ci", ["read", "root"],
         "unknown scope 'root' (expected one of: read, trigger, write, worker, admin)"),
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


# logs ------------------------------------------------------------------------


def test_append_and_read_from_an_offset(tmp_path: Path) -> None:
    logs = LogStore(tmp_path / "logs")
    assert (logs.read(1, 0), logs.size(1)) == (b"", 0)
    logs.append(1, b"hello ")
    logs.append(1, b"world\n")
    logs.append(2, b"other")
    assert logs.read(1, 0) == b"hello world\n"
    assert logs.read(1, 6) == b"world\n"
    assert logs.read(1, 6, limit=3) == b"wor"
    assert logs.read(1, 100) == b""
    assert logs.size(1) == 12
    assert logs.path(1).read_bytes() == b"hello world\n"
    logs.close(1)
    logs.append(1, b"more\n")  # appending after close reopens the file, never truncates it
    assert logs.read(1, 0) == b"hello world\nmore\n"
    logs.close_all()


async def collect(logs: LogStore, build_id: int, offset: int,
                  into: asyncio.Queue[bytes | None]) -> None:
    async for chunk in logs.follow(build_id, offset):
        await into.put(chunk)
    await into.put(None)


async def test_follow_waits_for_growth_and_ends_when_the_log_closes(tmp_path: Path) -> None:
    logs = LogStore(tmp_path / "logs")
    logs.open(7)
    assert logs.is_live(7)
    logs.append(7, b"one\n")
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
    task = asyncio.create_task(collect(logs, 7, 2, chunks))
    try:
        assert await asyncio.wait_for(chunks.get(), WAIT) == b"e\n"
        assert chunks.empty()
        logs.append(7, b"two\n")
        assert await asyncio.wait_for(chunks.get(), WAIT) == b"two\n"
        logs.append(7, b"three\n")
        logs.close(7)
        assert not logs.is_live(7)
        got = []
        while (chunk := await asyncio.wait_for(chunks.get(), WAIT)) is not None:
            got.append(chunk)
        assert b"".join(got) == b"three\n"
        await asyncio.wait_for(task, WAIT)
    finally:
        task.cancel()


async def test_follow_of_a_finished_log_gives_it_all_and_ends(tmp_path: Path) -> None:
    logs = LogStore(tmp_path / "logs")
    logs.append(3, b"x" * 70_000)  # more than one chunk
    got = [chunk async for chunk in logs.follow(3, 0)]
    assert len(got) == 2
    assert b"".join(got) == b"x" * 70_000
    assert [chunk async for chunk in logs.follow(4, 0)] == []  # no log at all
    logs.close_all()


async def test_follow_gives_up_after_its_timeout_on_a_quiet_live_log(tmp_path: Path) -> None:
    logs = LogStore(tmp_path / "logs")
    logs.open(5)
    logs.append(5, b"start\n")

    async def follow_all() -> list[bytes]:
        return [chunk async for chunk in logs.follow(5, 0, timeout=0.05)]

    assert await asyncio.wait_for(follow_all(), WAIT) == [b"start\n"]
    assert logs.is_live(5)
    logs.close_all()
