"""The CLI's plain-socket stream of an answer (ick/cli/rawhttp.py, through Client.stream for
an http:// daemon): chunks, lengths, errors, and a daemon that goes away half-way."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from ick.cli.client import ApiError, Client
from ick.errors import ClientError


def _read(url: str, path: str) -> bytes:
    return b"".join(Client(url, "t").stream(path))


async def test_a_chunked_answer_comes_whole(url: str) -> None:
    body = await asyncio.to_thread(_read, url, "/chunked")
    assert body == b'{"id": 17, ' + b'"name": "x' * 3000 + b'"}'


async def test_an_answer_with_a_length_comes_whole(url: str) -> None:
    body = await asyncio.to_thread(_read, url, "/echo")
    assert body.startswith(b'{"method": "GET", "path": "/echo"')
    assert body.endswith(b"}")


async def test_an_error_status_is_the_daemon_s_message(url: str) -> None:
    with pytest.raises(ApiError) as raised:
        await asyncio.to_thread(_read, url, "/missing")
    assert raised.value.status == 404
    assert raised.value.message == "no project 'nosuch'"


def test_nobody_listening_cannot_be_reached() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(ClientError, match="cannot reach ick at"):
        _read(f"http://127.0.0.1:{port}", "/x")


def _half_answer(server: socket.socket) -> None:
    conn, _ = server.accept()
    with conn:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")


def test_a_daemon_gone_half_way_is_a_lost_connection() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        thread = threading.Thread(target=_half_answer, args=(server,))
        thread.start()
        got = []
        with pytest.raises(ClientError, match="lost the connection to ick at .*: the daemon "
                                              "went away in the middle of its answer"):
            for chunk in Client(f"http://127.0.0.1:{server.getsockname()[1]}", "t").stream("/"):
                got.append(chunk)
        thread.join()
    assert got == [b"hello"]
