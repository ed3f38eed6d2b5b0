"""SQLite, all that is particular to it: the schema and its migrations (user_version), the
PRAGMAs, BEGIN IMMEDIATE, its JSON and upsert SQL, and the connections: one writer (its
transactions' statements on the event loop, their COMMIT on a thread of its own, WAL, group
commit) and a few query-only readers (aiosqlite), so a page never waits behind an fsync.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import queue
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import aiosqlite

from ick.storage.db import Row

log = logging.getLogger(__name__)

T = TypeVar("T")

READERS = 2  # read connections: a slow listing does not hold up every other page

# Each entry moves the schema one version up; never edit a released one, append.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE projects (name TEXT PRIMARY KEY, doc TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE pipelines (name TEXT PRIMARY KEY, doc TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE builds (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project TEXT NOT NULL,
        number INTEGER NOT NULL,
        state TEXT NOT NULL,
        parameters TEXT NOT NULL,
        concurrent INTEGER NOT NULL DEFAULT 0,
        queued_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        worker TEXT,
        UNIQUE (project, number)
    );
    CREATE INDEX builds_state ON builds (state);
    CREATE TABLE build_actions (
        build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        pipeline TEXT NOT NULL,
        idx INTEGER NOT NULL,
        kind TEXT NOT NULL,
        place TEXT NOT NULL,
        spec TEXT NOT NULL,
        state TEXT NOT NULL,
        exit_code INTEGER,
        duration REAL,
        message TEXT,
        details TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (build_id, seq)
    );
    CREATE TABLE tokens (
        key_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        scopes TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    """,
    # 2: notifications (ick/storage/notifications.py). A (build, event) is decided once; the
    # builds that ended before this migration count as decided, so none is told about late.
    """
    CREATE TABLE notify_decisions (
        build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
        event TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        PRIMARY KEY (build_id, event)
    );
    INSERT INTO notify_decisions (build_id, event, decided_at)
        SELECT id, 'end', COALESCE(finished_at, queued_at) FROM builds
        WHERE state NOT IN ('queued', 'running');
    INSERT INTO notify_decisions (build_id, event, decided_at)
        SELECT id, 'start', COALESCE(started_at, queued_at) FROM builds WHERE state != 'queued';
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
        target TEXT NOT NULL,
        event TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        next_attempt_at TEXT,
        last_error TEXT,
        history TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX notifications_due ON notifications (state, next_attempt_at);
    CREATE INDEX notifications_build ON notifications (build_id);
    """,
    # 3: artifacts (ick/storage/artifacts.py): names pointing at content-addressed blobs.
    """
    CREATE TABLE artifacts (
        name TEXT PRIMARY KEY,
        digest TEXT NOT NULL,
        size INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX artifacts_digest ON artifacts (digest);
    """,
    # 4: matrix jobs (ick/storage/builds.py): every build has jobs, each action belongs to
    # one; a build from before is one job, job 0, in the build's own state. A systree
    # artifact records the Debian architecture of its tree.
    """
    CREATE TABLE build_jobs (
        build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
        job INTEGER NOT NULL,
        parameters TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL,
        worker TEXT,
        started_at TEXT,
        finished_at TEXT,
        PRIMARY KEY (build_id, job)
    );
    INSERT INTO build_jobs (build_id, job, state, worker, started_at, finished_at)
        SELECT id, 0, state, worker, started_at, finished_at FROM builds;
    ALTER TABLE build_actions ADD COLUMN job INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE builds ADD COLUMN fail_fast INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE artifacts ADD COLUMN arch TEXT;
    """,
    # 5: web UI sessions and one-use login links (ick/storage/sessions.py): only the sha256 of
    # each secret, bound to the token it came from; revoking the token deletes them.
    """
    CREATE TABLE sessions (
        hash TEXT PRIMARY KEY,
        token_id TEXT NOT NULL REFERENCES tokens (key_id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX sessions_token ON sessions (token_id);
    CREATE TABLE login_links (
        hash TEXT PRIMARY KEY,
        token_id TEXT NOT NULL REFERENCES tokens (key_id) ON DELETE CASCADE,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX login_links_token ON login_links (token_id);
    """,
    # 6: running for months. Build numbers come from a counter per project, so pruning old
    # rows never makes a number come round again; what schedules and polls last saw; tokens
    # whose secret the daemon can show again (`ick hook` reuses one per project).
    """
    CREATE TABLE build_numbers (project TEXT PRIMARY KEY, last INTEGER NOT NULL);
    INSERT INTO build_numbers (project, last) SELECT project, MAX(number) FROM builds
        GROUP BY project;
    CREATE INDEX builds_project ON builds (project, id);
    CREATE TABLE timer_state (
        project TEXT NOT NULL,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (project, kind)
    );
    ALTER TABLE tokens ADD COLUMN reusable INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: what each action's type is and needs of a worker, decided when its pipeline is
    # checked (ick.model.ActionTraits): a pipeline's as a JSON list, NULL until decided (the
    # daemon decides those at start); an action's `local` (NULL: from before) and `arch_key`.
    """
    ALTER TABLE pipelines ADD COLUMN traits TEXT;
    ALTER TABLE build_actions ADD COLUMN local INTEGER;
    ALTER TABLE build_actions ADD COLUMN arch_key TEXT;
    """,
    # 8: tokens bound to projects (a JSON list of globs; NULL: every project). The hook tokens
    # `ick hook` made before (reusable, trigger only, named "hook for PROJECT") are bound to
    # their project, its glob characters escaped as fnmatch reads them.
    """
    ALTER TABLE tokens ADD COLUMN projects TEXT;
    UPDATE tokens SET projects = json_array(replace(replace(replace(substr(name, 10),
        '[', '[[]'), '*', '[*]'), '?', '[?]'))
        WHERE reusable = 1 AND scopes = 'trigger' AND substr(name, 1, 9) = 'hook for ';
    """,
    # 9: what caused a build and what it was built from (ick.model: EVENTS, GitFacts): its
    # event, the name of the token that asked (ick for its own), and its git facts as JSON
    # (NULL: none known). Builds from before get the event their ick_trigger meant.
    """
    ALTER TABLE builds ADD COLUMN event TEXT NOT NULL DEFAULT 'manual';
    ALTER TABLE builds ADD COLUMN triggered_by TEXT NOT NULL DEFAULT 'ick';
    ALTER TABLE builds ADD COLUMN git TEXT;
    UPDATE builds SET event = CASE
        WHEN json_extract(parameters, '$.ick_trigger') IN ('hook', 'poll') THEN
            CASE WHEN json_extract(parameters, '$.git_ref') LIKE 'refs/tags/%'
                 THEN 'tag' ELSE 'push' END
        WHEN json_extract(parameters, '$.ick_trigger') = 'schedule' THEN 'schedule'
        WHEN json_extract(parameters, '$.ick_trigger') LIKE '%#%' THEN 'downstream'
        ELSE 'manual' END;
    """,
    # 10: outputs (the `outputs:` action key): the workspace files an action kept, one
    # row per (build, job, path); the bytes are blobs of the artifact store, by digest, so a
    # blob goes only when neither an artifact nor an output refers to it.
    """
    CREATE TABLE build_outputs (
        build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
        job INTEGER NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        digest TEXT NOT NULL,
        PRIMARY KEY (build_id, job, path)
    );
    CREATE INDEX build_outputs_digest ON build_outputs (digest);
    """,
    # 11: the forges' webhook deliveries seen (ick/storage/deliveries.py), so a replay
    # builds nothing
    """
    CREATE TABLE forge_deliveries (project TEXT NOT NULL, delivery TEXT NOT NULL,
                                   received_at TEXT NOT NULL, PRIMARY KEY (project, delivery));
    CREATE INDEX forge_deliveries_received ON forge_deliveries (received_at);
    """,
    # 12: a gate candidate's build keeps its gate facts (ick.model.GateFacts);
    # the builds that have them are the gate's queue and its history.
    """
    ALTER TABLE builds ADD COLUMN gate TEXT;
    CREATE INDEX builds_gate ON builds (project, id) WHERE gate IS NOT NULL;
    """,
    # 13: deployments (ick/storage/deployments.py), one row each: which
    # build goes to which environment of a project, its run (a build of event deploy), its
    # state. No reference to builds: the history outlives a pruned build.
    """
    CREATE TABLE deployments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        project TEXT NOT NULL,
        environment TEXT NOT NULL,
        build INTEGER NOT NULL,
        run INTEGER,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        approved_by TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
    );
    CREATE INDEX deployments_environment ON deployments (project, environment, id);
    CREATE INDEX deployments_run ON deployments (run);
    """,
]


class SqliteDialect:
    """SQLite's spelling of what the stores ask of `ick.storage.db.Dialect`."""

    def json_value(self, column: str, path: Sequence[str | int]) -> str:
        steps = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        return f"json_extract({column}, '${steps}')"

    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        return (f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))}) "
                f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")

    def top_id(self, table: str) -> str:
        # AUTOINCREMENT keeps the highest id ever given out in sqlite_sequence.
        return f"SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = '{table}'"


class WriterThread:
    """The writer's sqlite3 connection, and a thread of its own for what may block: COMMIT
    (its fsync), a rollback, a statement run alone (a retention's delete of many rows).

    A transaction's statements run on the event loop itself (SqliteTx), which is cheaper than
    any trip to a thread: a trip is a queue put, the thread's wake-up and the loop's (a byte
    on its self-pipe) and the GIL handed over each way, some 20 us of CPU and, on this
    machine, 0.05-0.2 ms of waiting, where a build's statements take microseconds. They are
    small, the database has no other writer (the state directory is locked), so BEGIN never
    waits, and the pages they touch are in the cache. Only one side uses the connection at a
    time: the loop runs a statement only while no call is queued on the thread (`idle`).
    aiosqlite, which the readers use, takes one trip per statement.
    """

    def __init__(self, conn: sqlite3.Connection, loop: asyncio.AbstractEventLoop) -> None:
        self.conn = conn
        self._loop = loop
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._pending = 0  # calls queued or running on the thread (the loop's count)
        self._idle: asyncio.Future[None] | None = None  # set when _pending comes to 0
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._thread: threading.Thread | None = threading.Thread(
            target=self._serve, name="ick-sqlite-writer", daemon=True)
        self._thread.start()

    @classmethod
    async def open(cls, path: Path) -> WriterThread:
        # isolation_level None: the module starts no transaction of its own; rows are
        # tuples. Used from the loop and from the thread, never both at once.
        conn = await asyncio.to_thread(sqlite3.connect, str(path), isolation_level=None,
                                       check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        return cls(conn, asyncio.get_running_loop())

    def _serve(self) -> None:
        try:
            while (call := self._calls.get()) is not None:
                try:
                    result = call.fn(self.conn)
                except BaseException as e:
                    self._settle(call.future, None, e)
                else:
                    self._settle(call.future, result, None)
        finally:
            self.conn.close()
            self._settle(self._stopped, None, None)

    def _settle(self, future: asyncio.Future[Any], result: Any,
                error: BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self._loop.call_soon_threadsafe(self._done, future, result, error)

    def _done(self, future: asyncio.Future[Any], result: Any,
              error: BaseException | None) -> None:
        self._pending -= 1
        if self._pending == 0 and self._idle is not None:
            if not self._idle.done():
                self._idle.set_result(None)
            self._idle = None
        if future.done():  # cancelled meanwhile
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue `fn` on the thread: the future of its result. It is queued now, behind every
        call queued before it, and runs even if the future is cancelled."""
        future: asyncio.Future[T] = self._loop.create_future()
        self._pending += 1
        self._calls.put(_Call(fn, future))
        return future

    @property
    def busy(self) -> bool:
        """Is a call queued or running on the thread (the loop must not use the connection)?"""
        return self._pending > 0

    async def idle(self) -> None:
        """Until no call is queued or running on the thread."""
        if self._pending:
            if self._idle is None:
                self._idle = self._loop.create_future()
            await asyncio.shield(self._idle)

    async def close(self) -> None:
        if self._thread is None:
            return
        self._calls.put(None)
        await asyncio.shield(self._stopped)
        self._thread.join()
        self._thread = None


@dataclass
class _Call:
    fn: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]


class _Statement:
    """A statement of a transaction, run on the event loop when awaited (SqliteTx)."""

    __slots__ = ("tx", "kind", "sql", "params")

    EXECUTE, MANY, FETCH = 0, 1, 2

    def __init__(self, tx: SqliteTx, kind: int, sql: str, params: Any) -> None:
        self.tx = tx
        self.kind = kind
        self.sql = sql
        self.params = params

    def run(self, conn: sqlite3.Connection) -> Any:
        if self.kind == _Statement.FETCH:
            return conn.execute(self.sql, self.params).fetchall()
        if self.kind == _Statement.MANY:
            conn.executemany(self.sql, self.params)
            return None
        return conn.execute(self.sql, self.params).rowcount

    def __await__(self) -> Generator[Any, None, Any]:
        if self.kind == _Statement.MANY and not self.params:
            return None  # nothing to write: no BEGIN for it
        if self.tx.writer.busy:  # only after a cancelled rollback: wait for the thread
            yield from self.tx.writer.idle().__await__()
        return self.tx.run(self)


class SqliteTx:
    """One open write transaction: its statements run on the event loop, in order, each as
    it is awaited, on the writer's connection (see WriterThread); the first begins it."""

    def __init__(self, writer: WriterThread) -> None:
        self.writer = writer
        self.begun = False  # BEGIN has run: there is something to commit or roll back

    def run(self, statement: _Statement) -> Any:
        conn = self.writer.conn
        if not self.begun:
            conn.execute("BEGIN IMMEDIATE")
            self.begun = True
        return statement.run(conn)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Awaitable[int]:
        """Run one statement; the number of rows it changed."""
        return _Statement(self, _Statement.EXECUTE, sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Awaitable[None]:
        return _Statement(self, _Statement.MANY, sql, list(rows))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return next(iter(await self.fetchall(sql, params)), None)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> Awaitable[list[Row]]:
        return _Statement(self, _Statement.FETCH, sql, params)

    async def each(self, *statements: Awaitable[Any]) -> list[Any]:
        """Run statements (`tx.execute(...)`, ..., or coroutines that run some) one after
        another, in this order, so a later one sees what an earlier one wrote. All of them
        run before the first error is raised (the transaction is then rolled back). Their
        results, in order."""
        results: list[Any] = []
        todo = list(statements)
        try:
            while todo:
                try:
                    results.append(await todo.pop(0))
                except Exception as e:
                    results.append(e)
        finally:
            for rest in todo:  # cancelled: what was not awaited is closed, not left
                if inspect.iscoroutine(rest):
                    rest.close()
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results


@dataclass
class _Write(Generic[T]):
    fn: Callable[[SqliteTx], Awaitable[T]]
    future: asyncio.Future[T]


def _tuples(rows: Iterable[object]) -> list[Row]:
    # aiosqlite types rows as sqlite3.Row; with no row_factory set they are plain tuples.
    return cast(list[Row], list(rows))


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level None: the module starts no transaction of its own; rows are tuples.
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    await conn.execute("PRAGMA busy_timeout=5000")
    return conn


class SqliteDatabase:
    """The writer's connection, through which every write goes, and the readers' pool.

    WAL lets readers go on while the writer commits: a query that finds the writer busy takes
    a reader, so it never queues behind a transaction (or its fsync) on the writer's thread.
    Either way it sees every transaction committed before it began, so a handler reads what
    it has just written.
    """

    def __init__(self, writer: WriterThread) -> None:
        self.writer = writer
        # One connection is shared by every writer: a statement must not land inside another
        # coroutine's open transaction, so all writes take this lock.
        self.lock = asyncio.Lock()
        self._queued: list[_Write[Any]] = []  # writes waiting for the next group commit
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._reader_conns: list[aiosqlite.Connection] = []
        self._dialect = SqliteDialect()

    @property
    def dialect(self) -> SqliteDialect:
        return self._dialect

    @classmethod
    async def open(cls, path: Path, readers: int = READERS) -> SqliteDatabase:
        db = cls(await WriterThread.open(path))
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            # FULL: a transition we acknowledged survives power loss, not only SIGKILL.
            await db.execute("PRAGMA synchronous=FULL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.migrate()
            for _ in range(readers):  # after the migration: they see the schema as it is
                reader = await _connect(path)
                db._reader_conns.append(reader)
                await reader.execute("PRAGMA query_only=ON")  # a write here would be a bug
                # A reader's cache is dropped at every commit it sees, so a big one buys
                # little and costs resident memory: 512 KiB, not SQLite's 2 MiB.
                await reader.execute("PRAGMA cache_size=-512")
                db._readers.put_nowait(reader)
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        # Readers first: the writer's close checkpoints the WAL and removes it.
        for reader in self._reader_conns:
            await reader.close()
        self._reader_conns.clear()
        await self.writer.close()

    async def on_writer(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the writer's connection, on its thread, between two writes (tests
        trace its statements with it, or give it functions)."""
        async with self.lock:
            return await self.writer.call(fn)

    async def migrate(self) -> None:
        rows = await self._write_fetchall("PRAGMA user_version")
        version = int(rows[0][0])
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            log.info("migrating database schema to version %d", number)
            statements = [s for s in script.split(";") if s.strip()]
            statements.append(f"PRAGMA user_version={number}")
            await self.transaction((statement, ()) for statement in statements)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement as its own transaction; return the number of changed rows."""
        async with self.lock:
            return await self.writer.call(lambda conn: conn.execute(sql, params).rowcount)

    async def _write_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self.lock:
            return await self.writer.call(lambda conn: conn.execute(sql, params).fetchall())

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query on the writer's connection if it is idle, else on a reader."""
        if not self._reader_conns or not (self.lock.locked() or self._queued):
            # Idle: its page cache holds what was just written, where a reader's is dropped
            # after each commit. Taking a free lock does not wait, and a write that comes
            # meanwhile waits for one statement at most.
            return await self._write_fetchall(sql, params)
        # Each call is one statement run to its end on the reader's thread, so its read
        # transaction is over before the reader goes back to the pool.
        reader = await self._readers.get()
        try:
            return _tuples(await reader.execute_fetchall(sql, params))
        finally:
            self._readers.put_nowait(reader)

    async def write(self, fn: Callable[[SqliteTx], Awaitable[T]]) -> T:
        """Run `fn` inside one write transaction; rolled back if it raises.

        Writes that come while another holds the connection share the next transaction (a
        group commit): one BEGIN, one COMMIT and one fsync for all of them, which is most of
        what a small write costs. Each `fn` sees the ones before it in its group, as if they
        ran one after another; if one raises, the group is rolled back and each of its
        writes runs again alone, so a write fails only by its own error. A write that a group
        has begun is done even if its caller is cancelled meanwhile.
        """
        entry: _Write[T] = _Write(fn, asyncio.get_running_loop().create_future())
        self._queued.append(entry)
        try:
            async with self.lock:
                if not entry.future.done():  # no one has taken it into a group: lead one
                    group, self._queued = self._queued, []
                    try:
                        await self._commit(group)
                    except BaseException:
                        # Cancelled (the daemon stops): the others go back to the queue, and
                        # their callers, who wait for the lock, run them.
                        self._queued[:0] = [e for e in group
                                            if e is not entry and not e.future.done()]
                        raise
        except asyncio.CancelledError:
            if entry in self._queued:
                self._queued.remove(entry)
            raise
        return entry.future.result()

    async def _commit(self, group: list[_Write[Any]]) -> None:
        """Run the group's writes in one transaction and settle each one's future."""
        # The statements run on the loop (SqliteTx); COMMIT, with its fsync, on the thread.
        results = []
        tx = SqliteTx(self.writer)
        try:
            for entry in group:
                results.append(await entry.fn(tx))
            if tx.begun:  # else nothing was written
                await self.writer.call(lambda conn: conn.execute("COMMIT"))
        except Exception as e:
            await self._rollback()
            if len(group) == 1:
                group[0].future.set_exception(e)
                return
            for entry in group:  # each alone: the one that raised fails by its own error
                await self._commit([entry])
            return
        except BaseException:
            await self._rollback()
            raise
        for entry, result in zip(group, results, strict=True):
            entry.future.set_result(result)

    async def _rollback(self) -> None:
        def rollback(conn: sqlite3.Connection) -> None:
            if conn.in_transaction:  # a failed COMMIT or BEGIN may have left none
                conn.rollback()

        # Shielded: a cancelled write still leaves no transaction open behind it.
        await asyncio.shield(self.writer.call(rollback))

    async def transaction(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Run several statements atomically."""
        todo = list(statements)

        async def run(tx: SqliteTx) -> None:
            for sql, params in todo:
                await tx.execute(sql, params)

        await self.write(run)
