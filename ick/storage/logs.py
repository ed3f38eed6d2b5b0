"""Build logs: one append-only file per build, and waiting for a log to grow."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

CHUNK = 64 * 1024


class LogStore:
    """Appends to `DIR/BUILD_ID.log` and wakes whoever follows a build's log."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._fds: dict[int, int] = {}
        self._grew: dict[int, asyncio.Event] = {}
        self._live: set[int] = set()

    def path(self, build_id: int) -> Path:
        return self.directory / f"{build_id}.log"

    def open(self, build_id: int) -> None:
        """Mark a build's log live: followers wait for more until `close`."""
        self._live.add(build_id)

    def is_live(self, build_id: int) -> bool:
        return build_id in self._live

    def append(self, build_id: int, data: bytes) -> None:
        if not data:
            return
        fd = self._fds.get(build_id)
        if fd is None:
            fd = os.open(self.path(build_id), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
            self._fds[build_id] = fd
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        self._wake(build_id)

    def close(self, build_id: int) -> None:
        """The build has ended: its log will not grow again."""
        fd = self._fds.pop(build_id, None)
        if fd is not None:
            os.close(fd)
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
    ) -> AsyncIterator[bytes]:
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
