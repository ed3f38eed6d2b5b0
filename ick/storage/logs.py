"""Build logs: one append-only file per build, and waiting for a log to grow."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncGenerator
from pathlib import Path

from ick.storage.masking import Masker

CHUNK = 64 * 1024

log = logging.getLogger(__name__)


class LogStore:
    """Appends to `DIR/BUILD_ID.log` and wakes whoever follows a build's log."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._fds: dict[int, int] = {}
        self._grew: dict[int, asyncio.Event] = {}
        self._live: set[int] = set()
        self._maskers: dict[int, Masker] = {}
        self._failed: dict[int, str] = {}  # builds whose log could not be written, and why

    def path(self, build_id: int) -> Path:
        return self.directory / f"{build_id}.log"

    def open(self, build_id: int) -> None:
        """Mark a build's log live: followers wait for more until `close`."""
        self._live.add(build_id)

    def is_live(self, build_id: int) -> bool:
        return build_id in self._live

    def set_masker(self, build_id: int, masker: Masker) -> None:
        """From now on the build's secrets are written as `***`."""
        self._maskers[build_id] = masker

    def masker(self, build_id: int) -> Masker | None:
        return self._maskers.get(build_id)

    def append(self, build_id: int, data: bytes, *, stream: bool = False) -> None:
        """Write to the build's log; `stream` for a command's output, which may end mid-secret,
        so its last bytes wait for the next append (any other append writes them)."""
        masker = self._maskers.get(build_id)
        if masker is not None:
            data = masker.feed(data) if stream else masker.feed(data) + masker.flush()
        if not data or build_id in self._failed:
            return
        try:
            fd = self._fds.get(build_id)
            if fd is None:
                fd = os.open(self.path(build_id), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
                self._fds[build_id] = fd
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        except OSError as e:
            # A full disk must not take the daemon down; the build fails when its action ends.
            reason = (e.strerror or str(e)).lower()
            self._failed[build_id] = reason
            log.error("build %d: cannot write its log: %s", build_id, reason)
        self._wake(build_id)

    def failure(self, build_id: int) -> str | None:
        """Why the build's log could not be written, if it could not."""
        return self._failed.get(build_id)

    def close(self, build_id: int) -> None:
        """The build has ended: its log will not grow again."""
        masker = self._maskers.pop(build_id, None)
        if masker is not None:
            self.append(build_id, masker.flush())
        fd = self._fds.pop(build_id, None)
        if fd is not None:
            os.close(fd)
        self._failed.pop(build_id, None)
        self._live.discard(build_id)
        self._wake(build_id)

    def close_all(self) -> None:
        for build_id in list(self._fds):
            self.close(build_id)

    def _wake(self, build_id: int) -> None:
        event = self._grew.pop(build_id, None)
        if event is not None:
            event.set()

    def size(self, build_id: int) -> int:
        try:
            return self.path(build_id).stat().st_size
        except FileNotFoundError:
            return 0

    def read(self, build_id: int, offset: int, limit: int = CHUNK) -> bytes:
        try:
            with open(self.path(build_id), "rb") as f:
                f.seek(offset)
                return f.read(limit)
        except FileNotFoundError:
            return b""

    async def follow(
        self, build_id: int, offset: int, timeout: float | None = None
    ) -> AsyncGenerator[bytes, None]:
        """Yield the log from `offset` on, waiting for more while the build is live."""
        while True:
            data = self.read(build_id, offset)
            if data:
                offset += len(data)
                yield data
                continue
            if build_id not in self._live:
                return
            event = self._grew.setdefault(build_id, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), timeout)
            except TimeoutError:
                return
