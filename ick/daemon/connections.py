"""The daemon's HTTP connections: a request's headers must arrive within `header_timeout`, its
body may not stall for BODY_TIMEOUT, an idle keep-alive connection is closed after
IDLE_TIMEOUT, past `max_connections` the one that has waited longest for its headers makes
room, and a failing accept() is logged once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 75.0  # seconds a keep-alive connection may wait for its next request's first byte
BODY_TIMEOUT = 60.0  # seconds a request's body may go without a byte arriving (as nginx's)
LOG_EVERY = 60.0  # seconds between two log lines about the same trouble

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Throttle:
    """Says when a recurring trouble may be logged again: at most once every LOG_EVERY."""

    def __init__(self, every: float = LOG_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._last: float | None = None
        self.skipped = 0  # times it happened since it was last logged

    def due(self) -> bool:
        now = self.clock()
        if self._last is not None and now - self._last < self.every:
            self.skipped += 1
            return False
        self._last = now
        return True


class AcceptFailures:
    """The event loop's exception handler: asyncio reports every failing accept() (no file
    descriptor left: EMFILE) with a traceback, at every retry; this says it once a minute."""

    MESSAGE = "socket.accept() out of system resource"

    def __init__(self, throttle: Throttle | None = None) -> None:
        self.throttle = throttle or Throttle()

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != self.MESSAGE:
            loop.default_exception_handler(context)
            return
        skipped = self.throttle.skipped
        if self.throttle.due():
            error = context.get("exception")
            reason = (getattr(error, "strerror", None) or str(error)).lower()
            log.warning("cannot accept connections: %s (%d more times since the last such line)",
                        reason, skipped)
            self.throttle.skipped = 0


class GuardedHandler(RequestHandler):
    """aiohttp's connection, which tells its guard when it waits for a request's headers
    (since the connection's start, or since the first byte after an idle spell), when it
    waits idle for the next request, and when it has closed."""

    def __init__(self, manager: web.Server, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.guard = guard
        self.idle = False  # between requests with no byte of the next one yet
        self.deadline: asyncio.TimerHandle | None = None
        self.last_data = 0.0  # when the last bytes came (the event loop's clock)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.guard.opened(self)

    def data_received(self, data: bytes) -> None:
        self.last_data = asyncio.get_running_loop().time()
        if self.idle and data:
            self.guard.wait_for_headers(self)
        super().data_received(data)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.guard.closed(self)
        super().connection_lost(exc)


class ConnectionGuard:
    """Every open connection and what it waits for; closes those past their deadline."""

    def __init__(self, max_connections: int, header_timeout: float,
                 idle_timeout: float = IDLE_TIMEOUT, body_timeout: float = BODY_TIMEOUT) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.body_timeout = body_timeout
        self.open: set[GuardedHandler] = set()
        # The connections that wait for a request, oldest first (dicts keep their order).
        self.waiting: dict[GuardedHandler, float] = {}
        self.shed = Throttle()

    def factory(self, server: web.Server,
                loop: asyncio.AbstractEventLoop) -> Callable[[], GuardedHandler]:
        """The protocol factory for loop.create_server: aiohttp's connections, guarded."""
        def make() -> GuardedHandler:
            return GuardedHandler(server, self, loop=loop, keepalive_timeout=self.idle_timeout,
                                  access_log=None)
        return make

    def opened(self, conn: GuardedHandler) -> None:
        self.open.add(conn)
        self.wait_for_headers(conn)
        if len(self.open) <= self.max_connections:
            return
        # Full: the connection that has waited longest for its headers goes (the new one
        # itself when every other is in the middle of a request).
        oldest = next(iter(self.waiting))
        if self.shed.due():
            log.warning("all %d connections are taken: closing the one that has waited "
                        "longest for its request (%d more times since the last such line)",
                        self.max_connections, self.shed.skipped)
            self.shed.skipped = 0
        oldest.force_close()
        self.closed(oldest)

    def wait_for_headers(self, conn: GuardedHandler) -> None:
        conn.idle = False
        self._wait(conn, self.header_timeout)

    def request_started(self, conn: GuardedHandler, request: web.BaseRequest) -> None:
        conn.idle = False
        self.waiting.pop(conn, None)
        if conn.deadline is not None:
            conn.deadline.cancel()
            conn.deadline = None
        if request.body_exists and not request.content.is_eof():
            self._body_check(conn, request)

    def _body_check(self, conn: GuardedHandler, request: web.BaseRequest) -> None:
        """A body that stalls (half a form, a Content-Length never met) holds a connection
        in a request, which nothing else would ever end."""
        conn.deadline = None
        if conn not in self.open or request.content.is_eof():
            return
        loop = asyncio.get_running_loop()
        quiet = loop.time() - conn.last_data
        if quiet >= self.body_timeout:
            conn.force_close()
            self.closed(conn)
            return
        conn.deadline = loop.call_later(self.body_timeout - quiet, self._body_check, conn,
                                        request)

    def request_ended(self, conn: GuardedHandler) -> None:
        if conn in self.open:
            conn.idle = True
            self._wait(conn, self.idle_timeout)

    def closed(self, conn: GuardedHandler) -> None:
        self.open.discard(conn)
        self.waiting.pop(conn, None)
        if conn.deadline is not None:
            conn.deadline.cancel()
            conn.deadline = None

    def _wait(self, conn: GuardedHandler, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        self.waiting.pop(conn, None)
        self.waiting[conn] = loop.time()
        if conn.deadline is not None:
            conn.deadline.cancel()
        conn.deadline = loop.call_later(timeout, self._expire, conn)

    def _expire(self, conn: GuardedHandler) -> None:
        conn.deadline = None
        if conn in self.waiting:
            conn.force_close()
            self.closed(conn)


@web.middleware
async def track_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tells the guard when a connection's request starts and ends (aiohttp has no hook)."""
    conn = request.protocol
    if not isinstance(conn, GuardedHandler):
        return await handler(request)
    conn.guard.request_started(conn, request)
    try:
        return await handler(request)
    except ConnectionResetError:
        if request.transport is not None and not request.transport.is_closing():
            raise
        # The client left, or its body stalled and it was cut off, while its body was read:
        # nobody is there to answer, and it is no error of ours.
        return web.Response(status=400)
    finally:
        conn.guard.request_ended(conn)
