"""Sending a notification as a webhook: POST the facts as JSON, signed when a secret is named."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp

import ick
from ick.errors import SendError
from ick.httpclient import request_failure
from ick.notify.tls import tls_context

WEBHOOK_TIMEOUT = 30.0
SIGNATURE_HEADER = "X-Ick-Signature"


def signature(key: bytes, body: bytes) -> str:
    """The X-Ick-Signature value: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def where(url: str) -> str:
    """The URL without user, password, path or query, which may carry credentials."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"webhook {parts.scheme}://{parts.hostname}{port}"


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True).encode()


async def send_webhook(session: aiohttp.ClientSession, url: str, doc: dict[str, Any],
                       key: bytes | None) -> str:
    """POST `doc` to `url`; returns the status line; raises SendError unless the answer is 2xx."""
    place = where(url)
    data = encode(doc)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"ick/{ick.__version__}",
        "X-Ick-Event": str(doc["event"]),
    }
    if key is not None:
        headers[SIGNATURE_HEADER] = signature(key, data)
    try:
        async with session.post(
            url, data=data, headers=headers, allow_redirects=False,
            ssl=tls_context() if url.lower().startswith("https:") else True,
            timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT),
        ) as response:
            status, reason = response.status, response.reason or ""
    except (TimeoutError, aiohttp.ClientError) as e:
        raise request_failure(place, e, WEBHOOK_TIMEOUT) from None
    if not 200 <= status < 300:
        raise SendError(f"{place}: answered {status} {reason}".rstrip())
    return f"{place}: {status} {reason}".rstrip()
