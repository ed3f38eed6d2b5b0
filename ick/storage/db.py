"""The seam between the stores and a database: the few operations they need, as Protocols.

Stores write portable SQL with `?` placeholders and get rows as plain tuples; what differs
between databases (JSON paths, upserts, the highest id handed out) they ask of `Dialect`.
ick/storage/sqlite.py is the one implementation; a second database is a new module like it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

Row = tuple[Any, ...]  # one result row, columns in the order the query names them


class Tx(Protocol):
    """One open write transaction: its statements run in order, and see each other."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Awaitable[int]:
        """Run one statement (when awaited, or given to `each`); the rows it changed."""

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Awaitable[None]: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> Awaitable[list[Row]]: ...

    async def each(self, *statements: Awaitable[Any]) -> list[Any]:
        """Run statements together, in this order, without a round trip between them (a
        later one may use what an earlier one wrote); all or none. Their results, in order."""


class Dialect(Protocol):
    """The SQL that differs from one database to another."""

    def json_value(self, column: str, path: Sequence[str | int]) -> str:
        """An expression: the scalar at `path` (keys and list indexes) in a JSON column."""

    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
        """An INSERT of `columns` (one `?` each) that updates the row whose `key` exists."""

    def top_id(self, table: str) -> str:
        """A query: the highest id the table has ever handed out (0 if none), even if that
        row is gone."""


class Database(Protocol):
    """What a store needs of a database. Reads never wait behind a write; a read that starts
    after a write returned sees it."""

    @property
    def dialect(self) -> Dialect: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one query outside any write transaction."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement as its own write transaction; the number of changed rows."""

    async def write(self, fn: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `fn` inside one write transaction; rolled back if it raises."""

    async def transaction(self, statements: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Run several statements atomically."""

    async def close(self) -> None: ...
