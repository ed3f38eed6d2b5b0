"""Sending to Matrix (ick/notify/matrix.py): against a real Synapse on loopback, read back by
another user in the room; and a 429 from a small server that records the transaction ids."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ick.config import MatrixSettings
from ick.errors import SendError
from ick.notify.matrix import send_notice, txn_id
from tests.matrix_server import Homeserver, call


def settings(tmp_path: Path, homeserver: str, token: str) -> MatrixSettings:
    token_file = tmp_path / "matrix-token"
    token_file.write_text(token + "\n")
    return MatrixSettings(homeserver, str(token_file))


async def test_a_notice_reaches_the_room_by_id_and_by_alias(tmp_path: Path,
                                                            homeserver: Homeserver) -> None:
    matrix = settings(tmp_path, homeserver.url, homeserver.bot_token)
    async with aiohttp.ClientSession() as session:
        said = await send_notice(session, matrix, homeserver.room_id, "by id", "test-1")
        await send_notice(session, matrix, homeserver.room_alias, "by alias", "test-2")
        # A retry of a notification that did arrive (its answer was lost): the same
        # transaction id, so the homeserver gives the same event and the room one message.
        again = await send_notice(session, matrix, homeserver.room_id, "by id", "test-1")
    assert said.startswith(f"matrix {homeserver.url}: {homeserver.room_id} event $")
    assert again == said
    bodies = [e["content"]["body"] for e in await asyncio.to_thread(homeserver.notices)
              if e["content"]["body"].startswith("by ")]
    assert bodies == ["by id", "by alias"]


async def test_a_room_ick_is_not_in_is_joined_when_invited(tmp_path: Path,
                                                           homeserver: Homeserver) -> None:
    room = (await asyncio.to_thread(
        call, f"{homeserver.url}/_matrix/client/v3/createRoom", "POST",
        {"invite": ["@ickbot:ick.test"]}, homeserver.reader_token))["room_id"]
    matrix = settings(tmp_path, homeserver.url, homeserver.bot_token)
    async with aiohttp.ClientSession() as session:
        await send_notice(session, matrix, room, "after joining", "test-3")
        with pytest.raises(SendError, match=r"^matrix http://127\.0\.0\.1:\d+: resolving "
                                            r"#nowhere:ick\.test: answered 404: M_NOT_FOUND"):
            await send_notice(session, matrix, "#nowhere:ick.test", "lost", "test-4")
        bad = settings(tmp_path, homeserver.url, "not-a-token")
        with pytest.raises(SendError, match="answered 401: M_UNKNOWN_TOKEN"):
            await send_notice(session, bad, room, "refused", "test-5")
    notices = await asyncio.to_thread(homeserver.notices, room)
    assert [e["content"]["body"] for e in notices] == ["after joining"]
    assert notices[0]["sender"] == "@ickbot:ick.test"


async def test_a_429_is_waited_out_and_retried_with_the_same_transaction_id(
        tmp_path: Path) -> None:
    txns: list[str] = []
    answers = [web.json_response({"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests",
                                  "retry_after_ms": 300}, status=429)]

    async def send(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer tok-1"
        assert (await request.json()) == {"msgtype": "m.notice", "body": "hello"}
        txns.append(request.match_info["txn"])
        return answers.pop(0) if answers else web.json_response({"event_id": "$ev1"})

    app = web.Application()
    app.router.add_put("/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}", send)
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        matrix = settings(tmp_path, str(server.make_url("")).rstrip("/"), "tok-1")
        loop = asyncio.get_running_loop()
        began = loop.time()
        said = await send_notice(session, matrix, "!room:ick.test", "hello", "42")
        waited = loop.time() - began
    assert txns == [txn_id("42"), txn_id("42")] == ["ick-42", "ick-42"]
    assert said.endswith("!room:ick.test event $ev1")
    assert waited >= 0.3  # it waited what the server asked before asking again
