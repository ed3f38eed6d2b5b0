"""The CLI's plain-socket HTTP request against a real aiohttp server: lengths, chunks, errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ick.cli.client import ApiError, Client, Url, quote_name
from ick.cli.rawhttp import request
from ick.errors import ClientError

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


async def test_a_chunked_answer_is_put_together(url: str) -> None:
    port = int(url.rsplit(":", 1)[1])
    status, _, body = await asyncio.to_thread(request, "127.0.0.1", port, "GET", "/chunked",
                                              {}, None, 10)
    assert status == 200
    assert body == b'{"id": 17, ' + b'"name": "x' * 3000 + b'"}'


async def test_client_calls_go_over_the_plain_socket(url: str) -> None:
    client = Client(url, "ick_a_b")
    doc: Any = await asyncio.to_thread(client.call, "POST", "/echo?x=1", {"a": "é" * 10})
    assert doc == {"method": "POST", "path": "/echo?x=1", "auth": "Bearer ick_a_b",
                   "length": len('{"a": "' + "\\u00e9" * 10 + '"}')}
    with pytest.raises(ApiError) as info:
        await asyncio.to_thread(client.call, "GET", "/missing")
    assert (info.value.status, info.value.message) == (404, "no project 'nosuch'")


async def test_an_unreachable_daemon_is_a_client_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = Client(f"http://127.0.0.1:{port}", None)
    with pytest.raises(ClientError, match=f"cannot reach ick at http://127.0.0.1:{port}"):
        await asyncio.to_thread(client.call, "GET", "/version")


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("http://127.0.0.1:4250", ("http", "127.0.0.1", 4250, "")),
        ("HTTP://[::1]:80/ick/", ("http", "::1", 80, "/ick/")),
        ("https://ci.example.org", ("https", "ci.example.org", None, "")),
        ("http://h:99999", None), ("ftp://x", None), ("http://u@h:1", None),
        ("http://h:1?x", None), ("127.0.0.1:4250", None), ("http://:80", None),
    ],
)
def test_daemon_urls(url: str, parts: tuple[object, ...] | None) -> None:
    if parts is None:
        with pytest.raises(ClientError, match="expected http://HOST:PORT"):
            Url(url)
    else:
        u = Url(url)
        assert (u.scheme, u.hostname, u.port, u.path) == parts


def test_quote_name_is_urllib_quote_with_slashes_kept() -> None:
    import urllib.parse

    for name in ("liw/site", "j\u00fcnk", "a b%", "x?y#z", "~ok-._"):
        assert quote_name(name) == urllib.parse.quote(name, safe="/")
