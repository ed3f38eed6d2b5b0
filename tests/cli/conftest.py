"""Fixtures of the CLI's tests: a real aiohttp server with a chunked answer, an echo and a 404."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

Server = Callable[[web.Application], Awaitable[TestServer]]


async def chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    for part in (b'{"id": ', b"17, ", b'"name": "x' * 3000 + b'"}'):
        await response.write(part)
    await response.write_eof()
    return response


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"method": request.method, "path": request.path_qs,
                              "auth": request.headers.get("Authorization"),
                              "length": len(body)}, status=201)


async def missing(request: web.Request) -> web.Response:
    return web.json_response({"error": "no project 'nosuch'"}, status=404)


@pytest.fixture
async def url(aiohttp_server: Server) -> str:
    app = web.Application()
    app.router.add_get("/chunked", chunked)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/missing", missing)
    server = await aiohttp_server(app)
    return f"http://127.0.0.1:{server.port}"
