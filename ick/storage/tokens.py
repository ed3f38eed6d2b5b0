"""API tokens at rest: a public key id, the sha256 of the secret part, scopes, and the
projects a token is bound to (fnmatch globs on project names; None: every project)."""

from __future__ import annotations

import fnmatch
import json
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
    projects: tuple[str, ...] | None = None  # globs; None: not bound, every project

    def binds(self, project: str) -> bool:
        """Whether the token may act on `project` (fnmatchcase: a glob means the same on
        every host)."""
        return self.projects is None or any(
            fnmatch.fnmatchcase(project, glob) for glob in self.projects)

    def to_json(self) -> dict[str, object]:
        return {"id": self.key_id, "name": self.name, "scopes": sorted(self.scopes),
                "created_at": self.created_at, "reusable": self.reusable,
                "projects": None if self.projects is None else list(self.projects)}


class TokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> list[TokenRecord]:
        rows = await self.db.fetchall(
            "SELECT key_id, name, hash, scopes, created_at, reusable, projects FROM tokens "
            "ORDER BY created_at"
        )
        return [
            TokenRecord(r[0], r[1], r[2], frozenset(r[3].split()), r[4], bool(r[5]),
                        None if r[6] is None else tuple(json.loads(r[6])))
            for r in rows
        ]

    async def add(self, record: TokenRecord) -> None:
        await self.db.execute(
            "INSERT INTO tokens (key_id, name, hash, scopes, created_at, reusable, projects) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record.key_id, record.name, record.hash, " ".join(sorted(record.scopes)),
             record.created_at, int(record.reusable),
             None if record.projects is None else json.dumps(list(record.projects))),
        )

    async def remove(self, key_id: str) -> bool:
        return await self.db.execute("DELETE FROM tokens WHERE key_id = ?", (key_id,)) > 0
