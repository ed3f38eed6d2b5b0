"""Builds' outputs: the workspace files an action's `outputs:` kept, one row per (build, job,
path) in `build_outputs`, their bytes blobs of the artifact store; a build's outputs are
capped at `max_outputs_mb` in all, and go with the build (by cascade) when it is pruned.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ick.errors import InputError
from ick.storage.artifacts import DIGEST_RE, ArtifactStore, TooBigError
from ick.storage.db import Database, Row, Tx

MAX_PATH = 1000  # characters: a remote worker's upload carries it in its request line


def output_path_problem(path: str) -> str | None:
    """What is wrong with an output's path (relative to the workspace), or None. A path is
    a name in the table, never a file the daemon opens, but it is refused the way one that
    could leave the workspace would be."""
    if not path:
        return "an output's path must not be empty"
    if len(path) > MAX_PATH:
        return f"output path too long ({len(path)} characters, at most {MAX_PATH})"
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        return f"bad output path {path!r}: it contains a control character"
    if path.startswith("/"):
        return f"bad output path {path!r}: it must be relative to the workspace"
    parts = path.split("/")
    if ".." in parts or "." in parts or "" in parts:
        return f"bad output path {path!r}: '.', '..' and empty parts are not allowed"
    return None


def check_output_path(path: str) -> str:
    problem = output_path_problem(path)
    if problem is not None:
        raise InputError(problem)
    return path


@dataclass(frozen=True)
class Output:
    """One file a build kept: where it was in its job's workspace, and its bytes' digest."""

    build_id: int
    job: int
    path: str
    size: int
    digest: str  # "sha256:<64 hex digits>"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "digest": self.digest, "job": self.job}


def _output(row: Row) -> Output:
    return Output(int(row[0]), int(row[1]), str(row[2]), int(row[3]), str(row[4]))


COLUMNS = "build_id, job, path, size, digest"


class OutputStore:
    """The outputs of builds; their blobs are `blobs`' (the artifact store's)."""

    def __init__(self, db: Database, blobs: ArtifactStore, max_bytes: int) -> None:
        self.db = db
        self.blobs = blobs
        self.max_bytes = max_bytes

    @property
    def cap_text(self) -> str:
        return f"max_outputs_mb ({self.max_bytes / 2**20:g} MiB)"

    async def list(self, build_id: int) -> list[Output]:
        """A build's outputs, job by job, each job's by path."""
        rows = await self.db.fetchall(
            f"SELECT {COLUMNS} FROM build_outputs WHERE build_id = ? ORDER BY job, path",
            (build_id,))
        return [_output(r) for r in rows]

    async def get(self, build_id: int, path: str, job: int | None = None) -> Output | None:
        """The output at `path` of that job, or (no job given) of the first job that has one."""
        if job is None:
            rows = await self.db.fetchall(
                f"SELECT {COLUMNS} FROM build_outputs WHERE build_id = ? AND path = ? "
                "ORDER BY job LIMIT 1", (build_id, path))
        else:
            rows = await self.db.fetchall(
                f"SELECT {COLUMNS} FROM build_outputs WHERE build_id = ? AND job = ? "
                "AND path = ?", (build_id, job, path))
        return _output(rows[0]) if rows else None

    def blob_path(self, output: Output) -> Path:
        return self.blobs.blob_path(output.digest)

    async def _room(self, build_id: int, job: int, path: str) -> int:
        """Bytes the build may still keep, the output it replaces counted as gone."""
        rows = await self.db.fetchall(
            "SELECT COALESCE(SUM(size), 0) FROM build_outputs WHERE build_id = ? "
            "AND NOT (job = ? AND path = ?)", (build_id, job, path))
        return self.max_bytes - int(rows[0][0])

    def _too_big(self, build_id: int, path: str) -> InputError:
        return InputError(f"output {path}: build {build_id}'s outputs would pass "
                          f"{self.cap_text}; not stored")

    async def put(self, build_id: int, job: int, path: str, chunks: AsyncIterable[bytes],
                  expected: str | None = None) -> Output:
        """Keep a stream as output `path` of the build's job. With `expected` (the sender's
        digest), a stream that differs is refused and nothing is kept; past the build's cap,
        nothing is kept either."""
        check_output_path(path)
        if expected is not None and not DIGEST_RE.fullmatch(expected):
            raise InputError(f"bad digest {expected!r}: expected sha256:<64 lowercase hex digits>")
        room = await self._room(build_id, job, path)
        try:
            tmp, digest, size = await self.blobs.receive(chunks, max(room, 0), f"output {path}")
        except TooBigError:
            raise self._too_big(build_id, path) from None
        if expected is not None and expected != digest:
            tmp.unlink(missing_ok=True)
            raise InputError(f"output {path} not stored: its digest is {digest}, not "
                             f"{expected} as the upload said")
        return await self._commit(Output(build_id, job, path, size, digest), tmp)

    async def put_file(self, build_id: int, job: int, path: str, source: Path) -> Output:
        """Keep a file on this machine (copied) as output `path` of the build's job."""
        check_output_path(path)
        room = await self._room(build_id, job, path)
        try:
            tmp, digest, size = await self.blobs.receive_file(source, max(room, 0),
                                                              f"output {path}")
        except TooBigError:
            raise self._too_big(build_id, path) from None
        return await self._commit(Output(build_id, job, path, size, digest), tmp)

    async def _commit(self, output: Output, tmp: Path) -> Output:
        async def record(tx: Tx) -> tuple[Output, list[str]]:
            # Checked again in the transaction: a matrix build's jobs keep outputs at once.
            row = await tx.fetchone(
                "SELECT COALESCE(SUM(size), 0) FROM build_outputs WHERE build_id = ? "
                "AND NOT (job = ? AND path = ?)", (output.build_id, output.job, output.path))
            if row is not None and int(row[0]) + output.size > self.max_bytes:
                raise self._too_big(output.build_id, output.path)
            old = await tx.fetchone(
                "SELECT digest FROM build_outputs WHERE build_id = ? AND job = ? AND path = ?",
                (output.build_id, output.job, output.path))
            await tx.execute(
                self.db.dialect.upsert("build_outputs", COLUMNS.split(", "),
                                       ("build_id", "job", "path")),
                (output.build_id, output.job, output.path, output.size, output.digest))
            return output, [] if old is None else [str(old[0])]

        try:
            return await self.blobs.commit_blob(tmp, output.digest, record)
        except BaseException:
            await asyncio.to_thread(tmp.unlink, True)
            raise
