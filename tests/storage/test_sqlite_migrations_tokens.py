"""The migration that binds tokens to projects (ick/storage/sqlite.py): hook tokens made
before it (`ick hook`'s: reusable, trigger only, "hook for PROJECT") are bound to their
project; every other token stays unbound."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ick.storage.sqlite import MIGRATIONS
from ick.storage.tokens import TokenStore
from tests.databases import opened

# Rows as the schema before the migration held them (no `projects` column).
OLD_ROWS = [
    ("a1", "admin", "h", "admin", "T1", 0),
    ("h1", "hook for liw/site", "h", "trigger", "T2", 1),
    ("h2", "hook for hello", "h", "trigger", "T3", 1),
    ("r1", "hook for hello", "h", "read", "T4", 1),  # not ick hook's: other scopes
    ("c1", "hook for ci", "h", "trigger", "T5", 0),  # not reusable: someone's own token
]


async def test_old_hook_tokens_are_bound_to_their_project(db_path: Path) -> None:
    # Others may append migrations after this one: find it, and stop just before it.
    version = next(i for i, script in enumerate(MIGRATIONS)
                   if "ADD COLUMN projects" in script)
    with sqlite3.connect(db_path) as conn:
        for script in MIGRATIONS[:version]:
            conn.executescript(script)
        conn.execute(f"PRAGMA user_version={version}")
        conn.executemany("INSERT INTO tokens (key_id, name, hash, scopes, created_at, reusable) "
                         "VALUES (?, ?, ?, ?, ?, ?)", OLD_ROWS)
    conn.close()
    async with opened(db_path) as db:
        tokens = {t.key_id: t for t in await TokenStore(db).all()}
    assert {key: t.projects for key, t in tokens.items()} == {
        "a1": None, "h1": ("liw/site",), "h2": ("hello",), "r1": None, "c1": None}
    assert tokens["h1"].binds("liw/site") and not tokens["h1"].binds("liw/site2")
    assert tokens["h1"].to_json()["projects"] == ["liw/site"]
