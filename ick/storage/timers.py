"""What each project's schedule and poll last saw: a slot, a commit; kept across restarts."""

from __future__ import annotations

from dataclasses import dataclass

from ick.storage.db import Database


@dataclass(frozen=True)
class TimerState:
    """For `kind` "schedule": key the cron expression, value the last slot dealt with; for
    "poll": key the URL and ref polled, value the commit last built."""

    key: str
    value: str


class TimerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, project: str, kind: str) -> TimerState | None:
        rows = await self.db.fetchall(
            "SELECT key, value FROM timer_state WHERE project = ? AND kind = ?", (project, kind))
        return TimerState(str(rows[0][0]), str(rows[0][1])) if rows else None

    async def put(self, project: str, kind: str, state: TimerState) -> None:
        await self.db.execute(
            self.db.dialect.upsert("timer_state", ("project", "kind", "key", "value"),
                                   ("project", "kind")),
            (project, kind, state.key, state.value))
