"""The CLI's plain-socket HTTP request (ick/cli/rawhttp.py) against a real aiohttp server
(tests/cli/conftest.py): lengths, chunks."""

from __future__ import annotations

import asyncio

from ick.cli.rawhttp import request


async def test_a_chunked_answer_is_put_together(url: str) -> None:
    port = int(url.rsplit(":", 1)[1])
    status, _, body = await asyncio.to_thread(request, "127.0.0.1", port, "GET", "/chunked",
                                              {}, None, 10)
    assert status == 200
    assert body == b'{"id": 17, ' + b'"name": "x' * 3000 + b'"}'
