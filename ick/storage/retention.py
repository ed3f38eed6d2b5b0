"""Which builds retention lets go, and deleting them (row, actions, notifications) in batches.

Small transactions: a prune of thousands of builds never holds the write lock for long, so
builds that start and end meanwhile are not held up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ick.storage.db import Database
from ick.timefmt import parse_iso

BATCH = 500  # builds deleted per transaction


@dataclass(frozen=True)
class Keep:
    """A project's retention: the newest `builds` builds, and none older than `days`."""

    builds: int | None
    days: float | None


@dataclass(frozen=True)
class Prunable:
    id: int
    project: str
    number: int


def _query(project: str, keep: Keep, now: str) -> tuple[str, list[object]] | None:
    clauses = []
    params: list[object] = [project]
    if keep.builds is not None:
        # Older than the N-th newest build (with fewer than N, nothing: id < 0).
        clauses.append("id < COALESCE((SELECT id FROM builds WHERE project = ? "
                       "ORDER BY id DESC LIMIT 1 OFFSET ?), 0)")
        params += [project, keep.builds - 1]
    if keep.days is not None:
        cutoff = (parse_iso(now) - timedelta(days=keep.days)).isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
        clauses.append("COALESCE(finished_at, queued_at) < ?")
        params.append(cutoff)
    if not clauses:
        return None
    params.append(project)
    return (
        "SELECT id, project, number FROM builds WHERE project = ? "
        f"AND ({' OR '.join(clauses)}) "
        "AND state NOT IN ('queued', 'running') "
        "AND id != COALESCE((SELECT MAX(id) FROM builds AS s WHERE s.project = ? "
        "AND s.state = 'succeeded'), 0) "
        "AND NOT EXISTS (SELECT 1 FROM notifications AS n WHERE n.build_id = builds.id "
        "AND n.state = 'pending') ORDER BY id",
        params,
    )


class RetentionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def projects_with_builds(self) -> list[str]:
        rows = await self.db.fetchall("SELECT DISTINCT project FROM builds ORDER BY project")
        return [str(r[0]) for r in rows]

    async def prunable(self, project: str, keep: Keep, now: str) -> list[Prunable]:
        """The project's builds that retention lets go: ended, beyond the newest
        `keep.builds` or older than `keep.days`, not its last succeeded build, and with no
        notification still to send."""
        query = _query(project, keep, now)
        if query is None:
            return []
        rows = await self.db.fetchall(*query)
        return [Prunable(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def ended(self, project: str) -> list[Prunable]:
        """Every ended build of `project` with no notification still to send: what goes of
        a deleted project's builds, its last succeeded one too."""
        rows = await self.db.fetchall(
            "SELECT id, project, number FROM builds WHERE project = ? "
            "AND state NOT IN ('queued', 'running') "
            "AND NOT EXISTS (SELECT 1 FROM notifications AS n WHERE n.build_id = builds.id "
            "AND n.state = 'pending') ORDER BY id", (project,))
        return [Prunable(int(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def delete(self, ids: list[int]) -> int:
        """Delete these builds (their actions and notifications go with them, by cascade),
        `BATCH` to a transaction. Builds that started meanwhile are left alone."""
        deleted = 0
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            marks = ",".join("?" * len(chunk))
            deleted += await self.db.execute(
                f"DELETE FROM builds WHERE id IN ({marks}) "
                "AND state NOT IN ('queued', 'running')", chunk)
        return deleted

    async def live_build_ids(self, ended_since: str) -> tuple[set[int], int]:
        """Builds queued, running or ended after `ended_since` (their workers may still be
        handing the workspace back), and the highest build id there is (0 if none)."""
        rows = await self.db.fetchall(
            "SELECT id FROM builds WHERE state IN ('queued', 'running') OR finished_at > ?",
            (ended_since,))
        top = await self.db.fetchall(self.db.dialect.top_id("builds"))
        return {int(r[0]) for r in rows}, int(top[0][0]) if top else 0
