"""Build logs: one append-only file per build (and one per job of a build with several),
and waiting for a log to grow."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path

from ick.model import Build, job_name
from ick.storage.masking import Masker

CHUNK = 64 * 1024
DEFAULT_MAX_BYTES = 1024 * 2**20  # max_log_mb's default

log = logging.getLogger(__name__)

Key = tuple[int, int | None]  # (build id, job), job None: the build's own log


def job_key(build: Build, job: int) -> int | None:
    """Where job `job` of the build logs: the build's own log when it is the only job."""
    return None if len(build.jobs) == 1 else job


def log_keys(build: Build) -> list[int | None]:
    """Every log of the build: its own, then one per job when it has several."""
    return [None] if len(build.jobs) == 1 else [None, *range(len(build.jobs))]


class LogStore:
    """Appends to `DIR/BUILD_ID.log` (and `DIR/BUILD_ID.JOB.log` for the jobs of a build
    with several) and wakes whoever follows a log."""

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._sizes: dict[Key, int] = {}  # bytes in each open log
        self._capped: set[Key] = set()  # logs that reached max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._fds: dict[Key, int] = {}
        self._grew: dict[Key, asyncio.Event] = {}
        self._live: set[Key] = set()
        self._maskers: dict[Key, Masker] = {}
        self._failed: dict[Key, str] = {}  # logs that could not be written, and why

    def path(self, build_id: int, job: int | None = None) -> Path:
        return self.directory / f"{job_name(build_id, job)}.log"

    def open(self, build_id: int, job: int | None = None) -> None:
        """Mark a log live: followers wait for more until `close`."""
        self._live.add((build_id, job))

    def is_live(self, build_id: int, job: int | None = None) -> bool:
        return (build_id, job) in self._live

    def set_masker(self, build_id: int, masker: Masker, job: int | None = None) -> None:
        """From now on the build's secrets are written as `***` in this log."""
        self._maskers[(build_id, job)] = masker

    def masker(self, build_id: int, job: int | None = None) -> Masker | None:
        return self._maskers.get((build_id, job))

    def maskers(self, build_id: int) -> list[Masker]:
        """The maskers of every log of the build."""
        return [m for (b, _), m in self._maskers.items() if b == build_id]

    def append(self, build_id: int, data: bytes, *, stream: bool = False,
               job: int | None = None) -> None:
        """Write to a log; `stream` for a command's output, which may end mid-secret,
        so its last bytes wait for the next append (any other append writes them)."""
        key = (build_id, job)
        masker = self._maskers.get(key)
        if masker is not None:
            data = masker.feed(data) if stream else masker.feed(data) + masker.flush()
        if not data or key in self._failed or key in self._capped:
            return
        try:
            fd = self._fds.get(key)
            if fd is None:
                fd = os.open(self.path(build_id, job), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                             0o640)
                self._fds[key] = fd
                self._sizes[key] = os.fstat(fd).st_size
            size = self._sizes[key]
            if size + len(data) > self.max_bytes:
                data = self._cap(key, data[: max(0, self.max_bytes - size)])
            self._sizes[key] = size + len(data)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError as e:
            # A full disk must not take the daemon down; the build fails when its action ends.
            reason = (e.strerror or str(e)).lower()
            self._failed[key] = reason
            log.error("build %d: cannot write its log: %s", build_id, reason)
        self._wake(key)

    def _cap(self, key: Key, head: bytes) -> bytes:
        """What still fits, and the one line that says the rest is dropped."""
        self._capped.add(key)
        log.warning("build %d: its log reached %d bytes; dropping the rest", key[0],
                    self.max_bytes)
        newline = b"" if not head or head.endswith(b"\n") else b"\n"
        mib = self.max_bytes / 2**20
        return head + newline + (
            f"ick: the log reached max_log_mb ({mib:g} MiB): the rest of the build's output "
            "is dropped\n".encode()
        )

    def failure(self, build_id: int, job: int | None = None) -> str | None:
        """Why a log could not be written, if it could not."""
        return self._failed.get((build_id, job))

    def close(self, build_id: int, job: int | None = None) -> None:
        """The build (or job) has ended: its log will not grow again."""
        key = (build_id, job)
        masker = self._maskers.pop(key, None)
        if masker is not None:
            self.append(build_id, masker.flush(), job=job)
        fd = self._fds.pop(key, None)
        if fd is not None:
            os.close(fd)
        self._failed.pop(key, None)
        self._sizes.pop(key, None)
        self._capped.discard(key)
        self._live.discard(key)
        self._wake(key)

    def close_all(self) -> None:
        for build_id, job in list(self._fds):
            self.close(build_id, job)

    def _wake(self, key: Key) -> None:
        event = self._grew.pop(key, None)
        if event is not None:
            event.set()

    def size(self, build_id: int, job: int | None = None) -> int:
        try:
            return self.path(build_id, job).stat().st_size
        except FileNotFoundError:
            return 0

    def read(self, build_id: int, offset: int, limit: int = CHUNK,
             job: int | None = None) -> bytes:
        try:
            fd = os.open(self.path(build_id, job), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return b""
        try:
            return _read_at(fd, offset, limit)
        finally:
            os.close(fd)

    async def follow(
        self, build_id: int, offset: int, timeout: float | None = None,
        job: int | None = None,
    ) -> AsyncGenerator[bytes, None]:
        """Yield a log from `offset` on, waiting for more while it is live."""
        key = (build_id, job)
        fd: int | None = None  # held open while following: one open, not one per read
        try:
            while True:
                if fd is None:
                    with contextlib.suppress(FileNotFoundError):  # nothing written yet
                        fd = os.open(self.path(build_id, job), os.O_RDONLY | os.O_CLOEXEC)
                data = b"" if fd is None else _read_at(fd, offset, CHUNK)
                if data:
                    offset += len(data)
                    yield data
                    continue
                if key not in self._live:
                    return
                event = self._grew.setdefault(key, asyncio.Event())
                try:
                    async with asyncio.timeout(timeout):  # no task of its own, as wait_for's
                        await event.wait()
                except TimeoutError:
                    return
        finally:
            if fd is not None:
                os.close(fd)

    async def chunks(self, build_id: int, job: int | None, offset: int, follow: bool,
                      timeout: float | None) -> AsyncIterator[bytes]:
        """One log from `offset` on: to its end, or (`follow`) until it is closed."""
        if follow:
            async for chunk in self.follow(build_id, offset, timeout, job=job):
                yield chunk
            return
        while chunk := self.read(build_id, offset, job=job):
            offset += len(chunk)
            yield chunk

    async def whole(self, build: Build, offset: int, follow: bool = False,
                    timeout: float | None = None) -> AsyncIterator[bytes]:
        """The build's whole log from `offset` on. With several jobs: each job's log after
        the other under a line `== job N (key=value, ...) ==`, then the build's own lines
        (a follower sees each job's log to its end before the next one's)."""
        if len(build.jobs) == 1:
            async for chunk in self.chunks(build.id, None, offset, follow, timeout):
                yield chunk
            return
        skip = offset
        for part in [*build.jobs, None]:
            if part is None:
                chunks = self.chunks(build.id, None, 0, follow, timeout)
            else:
                title = f"== {part.title()} ==\n".encode()
                if skip >= len(title):
                    skip -= len(title)
                else:
                    yield title[skip:]
                    skip = 0
                chunks = self.chunks(build.id, part.job, 0, follow, timeout)
            async for chunk in chunks:
                if skip >= len(chunk):
                    skip -= len(chunk)
                    continue
                yield chunk[skip:]
                skip = 0


def _read_at(fd: int, offset: int, limit: int) -> bytes:
    """Up to `limit` bytes of the open file from `offset` (b"" at or past its end)."""
    if offset >= os.fstat(fd).st_size:
        return b""  # and no read there: past the file system's largest file it fails
    return os.pread(fd, limit, offset)
