"""The open event streams of live logs: told to end when the daemon stops, so that its
shutdown need not wait out their grace time (aiohttp holds `runner.cleanup()` for them)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Streams:
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def stop(self, app: web.Application) -> None:
        """on_shutdown: every stream sends what it has and ends cleanly."""
        self.stopping.set()


STREAMS = web.AppKey("ui_streams", Streams)
