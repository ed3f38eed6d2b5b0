"""Notifications at rest: who is told about which build event, and every attempt to tell them.

A (build, event) pair is decided once: the decision and its pending notifications are written
in one transaction, so a restart neither loses nor repeats them.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ick.storage.db import Database, Row, Tx

COLUMNS = (
    "id, build_id, target, event, state, attempts, created_at, next_attempt_at, last_error, history"
)


# The keys of a stored notify entry besides its channel's (ick.ickfile writes them).
RULE_OPTIONS = ("when", "on", "secret")


class NotifyState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # retried for a day, then given up


@dataclass(frozen=True)
class Decision:
    """Who is told about one event of one build (perhaps no one)."""

    build_id: int
    event: str
    targets: list[dict[str, Any]]


@dataclass
class Notification:
    id: int
    build_id: int
    target: dict[str, Any]
    event: str
    state: NotifyState
    attempts: int
    created_at: str
    next_attempt_at: str | None
    last_error: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def channel(self) -> str:
        """The channel the target goes by: its one key that is not a rule's option (a
        commit status: forge_status)."""
        if "forge_status" in self.target:
            return "forge_status"
        return next((k for k in self.target if k not in RULE_OPTIONS), "")

    @property
    def address(self) -> str:
        return str(self.target.get(self.channel, ""))

    @property
    def to(self) -> str:
        """Whom it tells, as the pages list it: the channel and address, or a forge's status
        and context."""
        if "forge_status" in self.target:
            return f"{self.target.get('state')} status {self.target['forge_status']}"
        return f"{self.channel} {self.address}"

    def to_json(self) -> dict[str, Any]:
        kind = self.channel
        address: dict[str, Any] = {kind: self.address}
        if "forge_status" in self.target:  # a commit status (ick.notify.forgestatus)
            forge = self.target.get("forge") or {}
            address.update({"forge": forge.get("type"), "sha": self.target.get("sha"),
                            "status": self.target.get("state")})
        return {
            "id": self.id,
            "channel": kind,
            **address,
            "event": self.event,
            "when": self.target.get("when", "always"),
            "state": self.state.value,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error,
            "history": self.history,
        }


def _from_row(row: Row) -> Notification:
    """A notification from COLUMNS."""
    (notification_id, build_id, target, event, state, attempts, created_at, next_attempt_at,
     last_error, history) = row
    return Notification(
        id=notification_id,
        build_id=build_id,
        target=json.loads(target),
        event=event,
        state=NotifyState(state),
        attempts=attempts,
        created_at=created_at,
        next_attempt_at=next_attempt_at,
        last_error=last_error,
        history=json.loads(history),
    )


DECIDE_BATCH = 300  # decisions per statement: three values each, well under SQLite's limit


class NotificationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def decide(self, decisions: Sequence[Decision], now: str) -> list[Decision]:
        """Record each (build, event) as decided and queue one pending row per target, in one
        transaction; returns the decisions that were new (one made before writes nothing).
        """
        return await self.db.write(lambda tx: self.decide_in(tx, decisions, now))

    async def decide_in(self, tx: Tx, decisions: Sequence[Decision], now: str) -> list[Decision]:
        """`decide` inside a transaction that writes more (a build's end with its Save)."""
        # Two statements however many decisions: which (build, event) are new, then the
        # pending rows of those.
        new: list[Decision] = []
        for start in range(0, len(decisions), DECIDE_BATCH):
            batch: dict[tuple[int, str], Decision] = {}
            for d in decisions[start:start + DECIDE_BATCH]:
                batch.setdefault((d.build_id, d.event), d)  # the first decides, as before
            rows = await tx.fetchall(
                "INSERT INTO notify_decisions (build_id, event, decided_at) "
                f"VALUES {', '.join(['(?, ?, ?)'] * len(batch))} "
                "ON CONFLICT DO NOTHING RETURNING build_id, event",
                [v for build_id, event in batch for v in (build_id, event, now)])
            new += [batch[(row[0], row[1])] for row in rows]
        await tx.executemany(
            "INSERT INTO notifications (build_id, target, event, state, attempts, "
            "created_at, next_attempt_at, history) VALUES (?, ?, ?, ?, 0, ?, ?, '[]')",
            [(d.build_id, json.dumps(t), d.event, NotifyState.PENDING.value, now, now)
             for d in new for t in d.targets])
        return new

    async def undecided_ends(self) -> list[int]:
        """Finished builds whose end was never decided (the daemon died in between)."""
        rows = await self.db.fetchall(
            "SELECT id FROM builds WHERE state NOT IN ('queued', 'running') AND id NOT IN "
            "(SELECT build_id FROM notify_decisions WHERE event = 'end') ORDER BY id"
        )
        return [int(r[0]) for r in rows]

    async def due(self, now: str, exclude: set[int], limit: int) -> list[Notification]:
        """Pending notifications whose next attempt is due, oldest first."""
        rows = await self.db.fetchall(
            f"SELECT {COLUMNS} FROM notifications WHERE state = ? AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
            (NotifyState.PENDING.value, now, limit + len(exclude)),
        )
        found = [_from_row(r) for r in rows if r[0] not in exclude]
        return found[:limit]

    async def next_due(self, exclude: set[int]) -> str | None:
        """When the next pending notification (not one of `exclude`) is due."""
        marks = ",".join("?" * len(exclude))
        rows = await self.db.fetchall(
            "SELECT MIN(next_attempt_at) FROM notifications WHERE state = ?"
            + (f" AND id NOT IN ({marks})" if exclude else ""),
            (NotifyState.PENDING.value, *sorted(exclude)),
        )
        return rows[0][0] if rows else None

    async def all_due_now(self, now: str) -> int:
        """Make every pending notification due now (at start-up: the settings may be fixed)."""
        return await self.db.execute(
            "UPDATE notifications SET next_attempt_at = ? WHERE state = ? AND next_attempt_at > ?",
            (now, NotifyState.PENDING.value, now),
        )

    async def record(self, n: Notification) -> None:
        """Store the outcome of an attempt: state, counters and history as `n` now has them."""
        await self.db.execute(
            "UPDATE notifications SET state = ?, attempts = ?, next_attempt_at = ?, "
            "last_error = ?, history = ? WHERE id = ?",
            (n.state.value, n.attempts, n.next_attempt_at, n.last_error, json.dumps(n.history),
             n.id),
        )

    async def for_build(self, build_id: int) -> list[Notification]:
        rows = await self.db.fetchall(
            f"SELECT {COLUMNS} FROM notifications WHERE build_id = ? ORDER BY id", (build_id,)
        )
        return [_from_row(r) for r in rows]
