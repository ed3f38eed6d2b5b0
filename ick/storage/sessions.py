"""Web UI sessions and one-use login links at rest: the sha256 of each secret, the token it is
bound to and when it expires. Deleting the token deletes both (ON DELETE CASCADE).
"""

from __future__ import annotations

from ick.storage.db import Database, Tx


class SessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_session(self, digest: str, token_id: str, now: str, expires_at: str) -> None:
        """Store a session; expired ones go at the same time."""
        async def write(tx: Tx) -> None:
            await tx.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            await tx.execute("INSERT INTO sessions (hash, token_id, created_at, expires_at) "
                             "VALUES (?, ?, ?, ?)", (digest, token_id, now, expires_at))

        await self.db.write(write)

    async def session_token(self, digest: str, now: str) -> str | None:
        """The token id of an unexpired session, or None."""
        rows = await self.db.fetchall(
            "SELECT token_id FROM sessions WHERE hash = ? AND expires_at > ?", (digest, now)
        )
        return str(rows[0][0]) if rows else None

    async def remove_session(self, digest: str) -> bool:
        return await self.db.execute("DELETE FROM sessions WHERE hash = ?", (digest,)) > 0

    async def add_link(self, digest: str, token_id: str, now: str, expires_at: str) -> None:
        """Store a login link; expired sessions and links go at the same time."""
        async def write(tx: Tx) -> None:
            await tx.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            await tx.execute("DELETE FROM login_links WHERE expires_at <= ?", (now,))
            await tx.execute("INSERT INTO login_links (hash, token_id, expires_at) "
                             "VALUES (?, ?, ?)", (digest, token_id, expires_at))

        await self.db.write(write)

    async def take_link(self, digest: str, now: str) -> str | None:
        """Use up a login link: its token id if it was there and unexpired; it is gone after."""
        async def take(tx: Tx) -> str | None:
            row = await tx.fetchone("DELETE FROM login_links WHERE hash = ? "
                                    "RETURNING token_id, expires_at", (digest,))
            return str(row[0]) if row is not None and row[1] > now else None

        return await self.db.write(take)
