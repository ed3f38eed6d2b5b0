"""The artifact store: content-addressed blobs (sha256) under STATE/artifacts and the
name -> digest table. A blob is written to a temporary file, fsynced and renamed before any
name points at it, so a crash or a full disk never leaves a broken artifact under a name.
Builds' outputs (ick.storage.outputs) keep their bytes here too: a blob goes when neither
refers to it.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import errno
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from ick.errors import InputError, StorageFullError
from ick.model import length_problem
from ick.storage.db import Database, Row, Tx
from ick.timefmt import now_iso

log = logging.getLogger(__name__)

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
WRITE_SIZE = 1 << 20  # bytes gathered before one write: few thread hops, bounded memory
# Every digest something refers to: a name, or a build's output.
KNOWN_DIGESTS = "SELECT digest FROM artifacts UNION SELECT digest FROM build_outputs"
T = TypeVar("T")


class TooBigError(InputError):
    """A blob being received passed the size it was allowed (`limit` bytes)."""

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


def artifact_name_problem(name: str) -> str | None:
    """Say what is wrong with an artifact name, or None. Names are not paths on disk, but
    they read like them (`liw/site.tar`), so nothing that could climb out of one is taken."""
    if not name:
        return "an artifact name must not be empty"
    if "\0" in name:
        return f"bad artifact name {name!r}: it contains a NUL byte"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"bad artifact name {name!r}: it contains a control character"
    if name.startswith("/"):
        return f"bad artifact name {name!r}: it must not be an absolute path"
    if (problem := length_problem(name, "artifact")) is not None:
        return problem
    parts = name.split("/")
    if ".." in parts or "." in parts:
        return f"bad artifact name {name!r}: '.' and '..' are not allowed as parts"
    if "" in parts:
        return f"bad artifact name {name!r}: it has an empty part ('//' or a trailing '/')"
    return None


def check_name(name: str) -> str:
    problem = artifact_name_problem(name)
    if problem:
        raise InputError(problem)
    return name


@dataclass(frozen=True)
class Artifact:
    name: str
    digest: str  # "sha256:<64 hex digits>"
    size: int
    created_at: str
    arch: str | None = None  # the Debian architecture of the tree inside, if it is one

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "digest": self.digest, "size": self.size,
                "created_at": self.created_at, "arch": self.arch}


def _artifact(row: Row) -> Artifact:
    return Artifact(row[0], row[1], int(row[2]), row[3], row[4])


class _BlobWriter:
    """A temporary file being filled and hashed; `finish` makes it durable."""

    def __init__(self, directory: Path) -> None:
        fd, name = tempfile.mkstemp(dir=directory, prefix="upload-")
        self.path = Path(name)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.hash.update(data)
        self.file.write(data)
        self.size += len(data)

    def finish(self) -> str:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        return "sha256:" + self.hash.hexdigest()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        self.path.unlink(missing_ok=True)


def hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(WRITE_SIZE):
            h.update(block)
            size += len(block)
    return "sha256:" + h.hexdigest(), size


def _fsync(path: Path) -> None:
    """Make a file's data, or a folder's entries, durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _full(e: OSError) -> bool:
    return e.errno in (errno.ENOSPC, errno.EDQUOT)


DropListener = Callable[[str], Awaitable[None]]


class ArtifactStore:
    """Blobs at ROOT/sha256/XX/HEX, uploads in progress in ROOT/tmp, names in SQLite."""

    def __init__(self, db: Database, root: Path) -> None:
        self.db = db
        self.root = root
        self.blobs = root / "sha256"
        self.tmp = root / "tmp"
        # Called with a digest no name refers to any more (its blob is gone): caches of it go.
        self._dropped: list[DropListener] = []
        # Blob files and the table change together: one change at a time.
        self._lock = asyncio.Lock()

    def watch_drops(self, listener: DropListener) -> None:
        """Call `listener` with each digest whose blob goes (the composition root wires this)."""
        self._dropped.append(listener)

    async def open(self) -> None:
        """Make the folders; forget uploads a crash cut short and blobs no name refers to."""
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(exist_ok=True)
        known = await self._known()
        removed = await asyncio.to_thread(self._sweep, known)
        if removed:
            log.info("removed %d unfinished uploads and unreferenced blobs", removed)

    def _sweep(self, known: set[str]) -> int:
        removed = 0
        for leftover in self.tmp.iterdir():
            leftover.unlink(missing_ok=True)
            removed += 1
        for blob in self.blobs.glob("*/*"):
            if f"sha256:{blob.name}" not in known:
                blob.unlink(missing_ok=True)
                removed += 1
        return removed

    async def sweep_unreferenced(self, dry_run: bool = False) -> list[tuple[str, int]]:
        """Blobs no name points at (left by a crash or an older ick): their digests and sizes,
        removed unless `dry_run`. Holds the store's lock, so no upload is half-way."""
        async with self._lock:
            known = await self._known()
            return await asyncio.to_thread(self._unreferenced, known, dry_run)

    async def _known(self) -> set[str]:
        return {str(r[0]) for r in await self.db.fetchall(KNOWN_DIGESTS)}

    def _unreferenced(self, known: set[str], dry_run: bool) -> list[tuple[str, int]]:
        found = []
        for blob in self.blobs.glob("*/*"):
            digest = f"sha256:{blob.name}"
            if digest in known:
                continue
            try:
                size = blob.lstat().st_size
                if not dry_run:
                    blob.unlink()
            except FileNotFoundError:
                continue
            found.append((digest, size))
        return found

    def blob_path(self, digest: str) -> Path:
        hexdigest = digest.removeprefix("sha256:")
        return self.blobs / hexdigest[:2] / hexdigest

    def temp_path(self, suffix: str = "") -> Path:
        """A new empty file in the store's own temporary folder, for `put_file`."""
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="local-", suffix=suffix)
        os.close(fd)
        return Path(name)

    async def list(self) -> list[Artifact]:
        rows = await self.db.fetchall(
            "SELECT name, digest, size, created_at, arch FROM artifacts ORDER BY name")
        return [_artifact(r) for r in rows]

    async def get(self, name: str) -> Artifact | None:
        rows = await self.db.fetchall(
            "SELECT name, digest, size, created_at, arch FROM artifacts WHERE name = ?",
            (name,))
        return _artifact(rows[0]) if rows else None

    async def referenced(self, digest: str) -> bool:
        rows = await self.db.fetchall(
            "SELECT 1 FROM artifacts WHERE digest = ? UNION ALL "
            "SELECT 1 FROM build_outputs WHERE digest = ? LIMIT 1", (digest, digest))
        return bool(rows)

    async def receive(self, chunks: AsyncIterable[bytes], limit: int | None = None,
                      what: str = "upload") -> tuple[Path, str, int]:
        """Write a stream to a temporary file of the store, fsynced: its path, digest and
        size, for `commit_blob`. Past `limit` bytes it stops, removes the file and raises
        TooBigError."""
        writer = await asyncio.to_thread(_BlobWriter, self.tmp)
        try:
            buffer = bytearray()
            async for chunk in chunks:
                buffer += chunk
                if limit is not None and writer.size + len(buffer) > limit:
                    raise TooBigError(f"{what} passed {limit} bytes", limit)
                if len(buffer) >= WRITE_SIZE:
                    data, buffer = bytes(buffer), bytearray()
                    await asyncio.to_thread(writer.write, data)
            await asyncio.to_thread(writer.write, bytes(buffer))
            digest = await asyncio.to_thread(writer.finish)
        except OSError as e:
            await asyncio.to_thread(writer.discard)
            if _full(e):
                raise StorageFullError(f"{what} not stored: the disk is full") from None
            raise
        except BaseException:
            await asyncio.to_thread(writer.discard)
            raise
        return writer.path, digest, writer.size

    async def receive_file(self, source: Path, limit: int | None = None,
                           what: str = "file") -> tuple[Path, str, int]:
        """`receive` for a file on this machine: copied (never moved: it is not ours)."""
        async def chunks() -> AsyncGenerator[bytes, None]:
            with open(source, "rb") as f:
                while block := await asyncio.to_thread(f.read, WRITE_SIZE):
                    yield block

        # Closed here, file and all, when `receive` stops early (past the limit), not when
        # the garbage collector gets to it.
        async with contextlib.aclosing(chunks()) as read:
            return await self.receive(read, limit, what)

    async def commit_blob(self, tmp: Path, digest: str,
                          record: Callable[[Tx], Awaitable[tuple[T, builtins.list[str]]]]) -> T:
        """Make the file from `receive` the blob of `digest` and, in the same change (under
        the store's lock, so no sweep sees the blob unreferenced), run `record`: it writes
        who refers to the blob and gives back its answer and the digests it stopped
        referring to, whose blobs go if nothing else refers to them."""
        async with self._lock:
            try:
                await asyncio.to_thread(self._place, tmp, digest)
            except OSError as e:
                tmp.unlink(missing_ok=True)
                if _full(e):
                    raise StorageFullError("not stored: the disk is full") from None
                raise
            try:
                answer, dropped = await self.db.write(record)
            except BaseException:
                await self._collect(digest)  # unless something else has the same bytes
                raise
            for old in dropped:
                if old != digest:
                    await self._collect(old)
        return answer

    async def put(self, name: str, chunks: AsyncIterable[bytes],
                  expected: str | None = None, arch: str | None = None) -> tuple[Artifact, bool]:
        """Store a stream under `name`; return the artifact and whether the name is new.

        With `expected` (a digest the sender computed), a stream that differs is refused and
        nothing changes.
        """
        check_name(name)
        if expected is not None and not DIGEST_RE.fullmatch(expected):
            raise InputError(f"bad digest {expected!r}: expected sha256:<64 lowercase hex digits>")
        tmp, digest, size = await self.receive(chunks, what=f"artifact {name!r}")
        if expected is not None and expected != digest:
            await asyncio.to_thread(tmp.unlink, True)
            raise InputError(f"artifact {name!r} not stored: its digest is {digest}, "
                             f"not {expected} as the upload said")
        return await self._commit(name, tmp, digest, size, arch)

    async def put_file(self, name: str, path: Path,
                       arch: str | None = None) -> tuple[Artifact, bool]:
        """Store a finished file from `temp_path` under `name` (the file is moved, not copied)."""
        check_name(name)
        try:
            digest, size = await asyncio.to_thread(hash_file, path)
            await asyncio.to_thread(_fsync, path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return await self._commit(name, path, digest, size, arch)

    async def _commit(self, name: str, tmp: Path, digest: str, size: int,
                      arch: str | None = None) -> tuple[Artifact, bool]:
        async with self._lock:
            try:
                await asyncio.to_thread(self._place, tmp, digest)
            except OSError as e:
                tmp.unlink(missing_ok=True)
                if _full(e):
                    raise StorageFullError(
                        f"artifact {name!r} not stored: the disk is full") from None
                raise
            artifact = Artifact(name, digest, size, now_iso(), arch)

            async def upsert(tx: Tx) -> str | None:
                row = await tx.fetchone("SELECT digest FROM artifacts WHERE name = ?", (name,))
                await tx.execute(
                    self.db.dialect.upsert(
                        "artifacts", ("name", "digest", "size", "created_at", "arch"), ("name",)),
                    (name, digest, size, artifact.created_at, arch),
                )
                return None if row is None else str(row[0])

            old = await self.db.write(upsert)
            if old is not None and old != digest:
                await self._collect(old)
        return artifact, old is None

    def _place(self, tmp: Path, digest: str) -> None:
        blob = self.blob_path(digest)
        blob.parent.mkdir(exist_ok=True)
        if blob.exists():
            tmp.unlink()  # the same bytes are stored already
            return
        os.rename(tmp, blob)
        _fsync(blob.parent)

    async def delete(self, name: str) -> bool:
        async with self._lock:
            async def remove(tx: Tx) -> str | None:
                row = await tx.fetchone("SELECT digest FROM artifacts WHERE name = ?", (name,))
                await tx.execute("DELETE FROM artifacts WHERE name = ?", (name,))
                return None if row is None else str(row[0])

            digest = await self.db.write(remove)
            if digest is not None:
                await self._collect(digest)
        return digest is not None

    async def _collect(self, digest: str) -> None:
        """Remove a blob no name refers to any more, and tell the listeners."""
        if await self.referenced(digest):
            return
        self.blob_path(digest).unlink(missing_ok=True)
        for listener in self._dropped:
            try:
                await listener(digest)
            except Exception:
                log.exception("could not forget %s", digest)
