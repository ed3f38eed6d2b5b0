"""The CLI's API client (ick/cli/client.py) over the plain socket against a real aiohttp
server (tests/cli/conftest.py): calls, errors, daemon URLs, names in paths."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from ick.cli.client import ApiError, Client, Url, quote_name
from ick.errors import ClientError


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
