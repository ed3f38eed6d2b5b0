"""The seam of ick/storage/db.py: the stores need only the `Database` Protocol, SQLite is one
module behind it, and a store runs on any object that has the Protocol's few methods."""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import ick
from ick.storage.db import Database, Dialect, Row, Tx
from ick.storage.sqlite import SqliteDatabase, SqliteDialect
from ick.storage.timers import TimerState, TimerStore
from ick.storage.tokens import TokenRecord, TokenStore

T = TypeVar("T")
PACKAGE = Path(ick.__file__).parent
SQLITE_ONLY = {"sqlite3", "aiosqlite", "ick.storage.sqlite"}


def imports(path: Path) -> set[str]:
    """Every module a file imports, at its top, in functions or under TYPE_CHECKING."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_only_the_sqlite_module_and_the_composition_root_import_sqlite() -> None:
    allowed = {PACKAGE / "storage" / "sqlite.py", PACKAGE / "daemon" / "__init__.py"}
    offenders = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                       if p not in allowed and imports(p) & SQLITE_ONLY)
    assert offenders == []


def test_sql_particular_to_sqlite_is_in_its_module_only() -> None:
    words = ("PRAGMA", "json_extract", "BEGIN IMMEDIATE", "sqlite_sequence", "INSERT OR",
             "excluded.")
    offenders = sorted(
        (str(p.relative_to(PACKAGE)), w) for p in (PACKAGE / "storage").glob("*.py")
        if p.name != "sqlite.py" for w in words if w in p.read_text())
    assert offenders == []


def test_the_sqlite_classes_have_the_protocols_shape() -> None:
    # What mypy checks (here, and where ick/daemon yields a SqliteDatabase as a Database):
    # a change on either side that breaks the seam fails it.
    database: type[Database] = SqliteDatabase
    dialect: Dialect = SqliteDialect()
    assert database and dialect


class MemoryDatabase:
    """Enough of a database for the stores below: keeps the statements it was given and
    answers reads from a list of rows. Shows a store needs nothing beyond the Protocol."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    @property
    def dialect(self) -> Dialect:
        return SqliteDialect()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.statements.append((sql, tuple(params)))
        return self.rows

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.statements.append((sql, tuple(params)))
        return 1

    async def write(self, fn: Callable[[Tx], Awaitable[T]]) -> T:
        raise NotImplementedError

    async def transaction(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        pass


async def test_a_store_runs_on_any_database_with_the_protocols_methods() -> None:
    db = MemoryDatabase([("k1", "n", "h", "read admin", "T0", 1, None)])
    assert await TokenStore(db).all() == [
        TokenRecord("k1", "n", "h", frozenset({"read", "admin"}), "T0", True)]
    await TimerStore(db).put("p", "poll", TimerState("url", "abc"))
    assert db.statements[-1][1] == ("p", "poll", "url", "abc")
