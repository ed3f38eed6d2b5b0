"""Sending a notification to a Matrix room: an `m.notice` through the client-server API, its
transaction id made of the notification's id (so a retry is the same event, never a second
one), a 429 waited out for its `retry_after_ms`; a room alias resolved through the directory.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

import ick
from ick.config import MatrixSettings
from ick.errors import SendError
from ick.httpclient import request_failure
from ick.notify.tls import tls_context

TIMEOUT = 30.0
MAX_WAIT = 60.0  # seconds a 429 may ask for within one attempt; longer: the outbox retries
MAX_LIMITED = 5  # 429s waited out within one attempt
def where(settings: MatrixSettings) -> str:
    parts = urlsplit(settings.homeserver)
    return f"matrix {parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def txn_id(key: str) -> str:
    """The transaction id of a notification: the same on every try, so the homeserver
    answers a retry of a message it has with that message's event."""
    return f"ick-{key}"


def read_token(settings: MatrixSettings) -> str:
    """Read at each send, so a changed token needs no restart."""
    try:
        token = Path(settings.token_file).read_text().strip()
    except OSError as e:
        raise SendError(f"matrix: cannot read token_file {settings.token_file}: "
                        f"{(e.strerror or str(e)).lower()}") from None
    if not token:
        raise SendError(f"matrix: token_file {settings.token_file} is empty")
    return token


def _limited_for(doc: dict[str, Any], headers: Any) -> float:
    """Seconds a 429 asks to wait: its `retry_after_ms`, else Retry-After, else 1 s."""
    ms = doc.get("retry_after_ms")
    if isinstance(ms, int | float) and not isinstance(ms, bool) and ms >= 0:
        return float(ms) / 1000
    header = headers.get("Retry-After", "") if headers is not None else ""
    return float(header) if header.isdigit() else 1.0


async def _call(session: aiohttp.ClientSession, settings: MatrixSettings, method: str,
                path: str, token: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    """One request of the client-server API (429s waited out); the status and JSON answer."""
    place = where(settings)
    url = settings.homeserver + path
    headers = {"Authorization": f"Bearer {token}", "User-Agent": f"ick/{ick.__version__}"}
    for _ in range(MAX_LIMITED + 1):
        try:
            async with session.request(
                method, url, json=body, headers=headers, allow_redirects=False,
                ssl=tls_context() if url.lower().startswith("https:") else True,
                timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            ) as response:
                status, answer_headers = response.status, response.headers
                text = await response.text(errors="replace")
        except (TimeoutError, aiohttp.ClientError) as e:
            raise request_failure(place, e, TIMEOUT) from None
        try:
            loaded = json.loads(text) if text else {}
        except ValueError:
            loaded = {}
        doc = loaded if isinstance(loaded, dict) else {}
        if status != 429:
            return status, doc
        wait = _limited_for(doc, answer_headers)
        if wait > MAX_WAIT:
            break
        await asyncio.sleep(wait)
    raise SendError(f"{place}: rate limited (429) past what one attempt waits for")


def _refused(settings: MatrixSettings, what: str, status: int, doc: dict[str, Any]) -> SendError:
    said = " ".join(str(doc[k]) for k in ("errcode", "error") if isinstance(doc.get(k), str))
    return SendError(f"{where(settings)}: {what}: answered {status}{': ' + said if said else ''}")


async def resolve(session: aiohttp.ClientSession, settings: MatrixSettings, room: str,
                  token: str) -> str:
    """A room id for `room`: itself, or what the directory says an alias names."""
    if room.startswith("!"):
        return room
    status, doc = await _call(session, settings, "GET",
                              f"/_matrix/client/v3/directory/room/{quote(room, safe='')}",
                              token, None)
    room_id = doc.get("room_id")
    if status != 200 or not isinstance(room_id, str):
        raise _refused(settings, f"resolving {room}", status, doc)
    return room_id


async def send_notice(session: aiohttp.ClientSession, settings: MatrixSettings, room: str,
                      text: str, key: str) -> str:
    """Post `text` as an m.notice to `room` (an id or an alias); what the homeserver
    answered; raises SendError. ick joins a room it is invited to but not yet in."""
    token = read_token(settings)
    room_id = await resolve(session, settings, room, token)
    path = (f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/send/m.room.message/"
            f"{quote(txn_id(key), safe='')}")
    body = {"msgtype": "m.notice", "body": text}
    status, doc = await _call(session, settings, "PUT", path, token, body)
    if status == 403 and doc.get("errcode") == "M_FORBIDDEN":
        joined, answer = await _call(session, settings, "POST",
                                     f"/_matrix/client/v3/join/{quote(room_id, safe='')}",
                                     token, {})
        if joined != 200:
            raise _refused(settings, f"sending to {room} (and joining it)", joined, answer)
        status, doc = await _call(session, settings, "PUT", path, token, body)
    if not 200 <= status < 300:
        raise _refused(settings, f"sending to {room}", status, doc)
    return f"{where(settings)}: {room} event {doc.get('event_id')}"


async def whoami(session: aiohttp.ClientSession, settings: MatrixSettings) -> str:
    """Who the token is on the homeserver (for `ick doctor`); raises SendError."""
    token = read_token(settings)
    status, doc = await _call(session, settings, "GET", "/_matrix/client/v3/account/whoami",
                              token, None)
    if status != 200 or not isinstance(doc.get("user_id"), str):
        raise _refused(settings, "whoami", status, doc)
    return str(doc["user_id"])
