"""API tokens at rest: a public key id, the sha256 of the secret part, and scopes."""

from __future__ import annotations

from dataclasses import dataclass

from ick.storage.db import Database


@dataclass(frozen=True)
class TokenRecord:
    key_id: str
    name: str
    hash: str
    scopes: frozenset[str]
    created_at: str
    reusable: bool = False  # its secret is derived, so the daemon can show it again

    def to_json(self) -> dict[str, object]:
        return {"id": self.key_id, "name": self.name, "scopes": sorted(self.scopes),
                "created_at": self.created_at, "reusable": self.reusable}


class TokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> list[TokenRecord]:
        rows = await self.db.fetchall(
            "SELECT key_id, name, hash, scopes, created_at, reusable FROM tokens "
            "ORDER BY created_at"
        )
        return [
            TokenRecord(r[0], r[1], r[2], frozenset(r[3].split()), r[4], bool(r[5]))
            for r in rows
        ]

    async def add(self, record: TokenRecord) -> None:
        await self.db.execute(
            "INSERT INTO tokens (key_id, name, hash, scopes, created_at, reusable) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (record.key_id, record.name, record.hash, " ".join(sorted(record.scopes)),
             record.created_at, int(record.reusable)),
        )

    async def remove(self, key_id: str) -> bool:
        return await self.db.execute("DELETE FROM tokens WHERE key_id = ?", (key_id,)) > 0
