"""The queries the web pages make: each project's last build, the active builds, a page of one
project's builds, the last finished build. Each is an index lookup, however many builds exist.
"""

from __future__ import annotations

from ick.model import Build, BuildState
from ick.storage.build_rows import BUILD_COLUMNS, build_from_row, resolved_commit
from ick.storage.db import Database

_ENDED = "state NOT IN ('queued', 'running')"
# A cancelled build (by hand, or superseded) says nothing of how the project is doing.
_COUNTS = "state <> 'cancelled'"


class BuildOverview:
    """Read-only views over the builds aggregate, for pages: builds without their actions."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._resolved_commit = resolved_commit(db.dialect)

    async def last_builds(self) -> list[tuple[str, Build | None]]:
        """Every project, by name, with its newest build that was not cancelled (None if it
        has none)."""
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS}, {self._resolved_commit}, projects.name "
            "FROM projects LEFT JOIN builds ON builds.project = projects.name AND builds.number = "
            "(SELECT MAX(number) FROM builds AS m WHERE m.project = projects.name "
            f"AND m.{_COUNTS}) "
            "ORDER BY projects.name"
        )
        return [(r[-1], None if r[0] is None else build_from_row(r[:-1])) for r in rows]

    async def active(self, limit: int = 100) -> list[Build]:
        """Running builds, then queued ones, oldest first, without their actions."""
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS}, {self._resolved_commit} FROM builds WHERE state IN (?, ?) "
            "ORDER BY state = ?, id LIMIT ?",
            (BuildState.RUNNING.value, BuildState.QUEUED.value, BuildState.QUEUED.value, limit),
        )
        return [build_from_row(r) for r in rows]

    async def page(self, project: str, before: int | None, limit: int) -> list[Build]:
        """Up to `limit` of the project's builds numbered below `before`, newest first."""
        rows = await self.db.fetchall(
            f"SELECT {BUILD_COLUMNS}, {self._resolved_commit} FROM builds "
            "WHERE project = ? AND number < ? ORDER BY number DESC LIMIT ?",
            (project, before if before is not None else 2**62, limit),
        )
        return [build_from_row(r) for r in rows]

    async def count(self, project: str) -> int:
        rows = await self.db.fetchall("SELECT COUNT(*) FROM builds WHERE project = ?", (project,))
        return int(rows[0][0])

    async def last_finished(self, project: str) -> BuildState | None:
        """The state of the project's newest build that has ended and was not cancelled (for
        its badge)."""
        rows = await self.db.fetchall(
            f"SELECT state FROM builds WHERE project = ? AND {_ENDED} AND {_COUNTS} "
            "ORDER BY number DESC LIMIT 1", (project,))
        return BuildState(rows[0][0]) if rows else None
