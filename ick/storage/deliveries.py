"""The forges' webhook deliveries seen (their delivery ids), so that a delivery sent again,
by the forge's retry or by someone replaying it, builds nothing new. Kept for KEEP_DAYS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ick.storage.db import Database, Tx

KEEP_DAYS = 30  # a forge retries for hours at most; a replay a month later is its own push


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DeliveryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, project: str, delivery: str, now: datetime) -> bool:
        """Record the delivery as seen; False if it was seen before (nothing is to be done).
        Deliveries older than KEEP_DAYS are forgotten on the way."""

        async def write(tx: Tx) -> bool:
            await tx.execute("DELETE FROM forge_deliveries WHERE received_at < ?",
                             (_iso(now - timedelta(days=KEEP_DAYS)),))
            return await tx.execute(
                "INSERT INTO forge_deliveries (project, delivery, received_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING", (project, delivery, _iso(now))) > 0

        return await self.db.write(write)

    async def release(self, project: str, delivery: str) -> None:
        """Forget a delivery whose build could not be made, so the forge's retry may make it."""
        await self.db.execute(
            "DELETE FROM forge_deliveries WHERE project = ? AND delivery = ?", (project, delivery))
