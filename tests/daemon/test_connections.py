"""ick/daemon/connections.py: headers late are cut, idle connections end, past the limit the
connection that has waited longest for its headers makes room, accept failures are logged
once a minute."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from ick.daemon.connections import AcceptFailures, ConnectionGuard, Throttle, track_requests

BOUND = 10.0  # seconds any wait here may take before the test fails


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


@asynccontextmanager
async def serving(guard: ConnectionGuard) -> AsyncIterator[int]:
    """An aiohttp app behind `guard` on a loopback port (yielded)."""
    app = web.Application(middlewares=[track_requests])
    app.router.add_get("/version", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    assert runner.server is not None
    loop = asyncio.get_running_loop()
    server = await loop.create_server(guard.factory(runner.server, loop), "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await runner.cleanup()


async def half_sent(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /vers")  # and never the end of the headers
    await writer.drain()
    return reader, writer


async def get(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    try:
        return await asyncio.wait_for(reader.read(), BOUND)
    finally:
        writer.close()


async def closed_by_daemon(reader: asyncio.StreamReader) -> bool:
    """True when the other end closes the connection (EOF or reset) within BOUND."""
    try:
        return await asyncio.wait_for(reader.read(), BOUND) == b""
    except ConnectionResetError:
        return True


async def test_headers_that_do_not_arrive_in_time_end_the_connection() -> None:
    guard = ConnectionGuard(max_connections=10, header_timeout=0.2)
    async with serving(guard) as port:
        reader, writer = await half_sent(port)
        assert await closed_by_daemon(reader)
        writer.close()
        assert not guard.open
        assert b"200 OK" in await get(port)


async def test_an_idle_keep_alive_connection_ends() -> None:
    guard = ConnectionGuard(max_connections=10, header_timeout=0.2, idle_timeout=0.3)
    async with serving(guard) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"hello"), BOUND)
        assert b"200 OK" in head
        assert await closed_by_daemon(reader)
        writer.close()


async def test_past_the_limit_the_longest_waiting_connection_makes_room() -> None:
    guard = ConnectionGuard(max_connections=3, header_timeout=60)
    async with serving(guard) as port:
        first = await half_sent(port)
        others = [await half_sent(port), await half_sent(port)]
        # A fourth comes: the first, waiting longest, is closed; the real request is answered.
        assert b"200 OK" in await get(port)
        assert await closed_by_daemon(first[0])
        for _, writer in [first, *others]:
            writer.close()
        assert len(guard.open) <= 3


async def test_when_all_connections_are_in_requests_the_new_one_is_refused() -> None:
    guard = ConnectionGuard(max_connections=1, header_timeout=60)
    release = asyncio.Event()
    app_started = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        app_started.set()
        await release.wait()
        return web.Response(text="slow")

    app = web.Application(middlewares=[track_requests])
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    assert runner.server is not None
    loop = asyncio.get_running_loop()
    server = await loop.create_server(guard.factory(runner.server, loop), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await asyncio.wait_for(app_started.wait(), BOUND)
        new_reader, new_writer = await half_sent(port)
        assert await closed_by_daemon(new_reader)
        release.set()
        assert b"slow" in await asyncio.wait_for(reader.read(), BOUND)
        writer.close()
        new_writer.close()
    finally:
        server.close()
        await runner.cleanup()


def test_accept_failures_are_logged_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    handler = AcceptFailures(Throttle(clock=lambda: now[0]))
    context: dict[str, Any] = {"message": AcceptFailures.MESSAGE,
                               "exception": OSError(errno.EMFILE, "Too many open files"),
                               "socket": socket.socket()}
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.INFO, logger="ick.daemon.connections"):
            for _ in range(1000):  # one a second (asyncio's retry) for 16 minutes and more
                handler(loop, context)
                now[0] += 1.0
    finally:
        loop.close()
        context["socket"].close()
    lines = [r for r in caplog.records if "cannot accept" in r.getMessage()]
    assert len(lines) == 17
    assert lines[0].getMessage() == ("cannot accept connections: too many open files "
                                     "(0 more times since the last such line)")
    assert "(59 more times" in lines[1].getMessage()
    assert all(r.exc_info is None for r in lines)


def test_other_loop_errors_go_to_asyncio_as_before(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[dict[str, Any]] = []
    loop = asyncio.new_event_loop()
    try:
        loop.default_exception_handler = seen.append  # type: ignore[method-assign]
        AcceptFailures()(loop, {"message": "something else"})
    finally:
        loop.close()
    assert seen == [{"message": "something else"}]


async def test_a_stalled_body_ends_the_connection_quietly(
        caplog: pytest.LogCaptureFixture) -> None:
    guard = ConnectionGuard(max_connections=10, header_timeout=60, body_timeout=1.0)
    reads: list[str] = []

    async def form(request: web.Request) -> web.Response:
        reads.append("started")
        await request.read()
        reads.append("read")  # never: the body does not come
        return web.Response(text="thanks")

    app = web.Application(middlewares=[track_requests])
    app.router.add_post("/ui/login", form)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    assert runner.server is not None
    loop = asyncio.get_running_loop()
    server = await loop.create_server(guard.factory(runner.server, loop), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with caplog.at_level(logging.INFO):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /ui/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
                         b"token=")  # and never the rest
            assert await closed_by_daemon(reader)
            writer.close()
            # A body that comes, slowly but steadily, is read.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /ui/login HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                         b"Connection: close\r\n\r\n")
            for byte in (b"a", b"b", b"c", b"d"):
                await asyncio.sleep(0.1)
                writer.write(byte)
            assert b"thanks" in await asyncio.wait_for(reader.read(), BOUND)
            writer.close()
    finally:
        server.close()
        await runner.cleanup()
    assert reads == ["started", "started", "read"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
