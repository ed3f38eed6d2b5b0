"""The webhook channel: `notify: [{webhook: URL, secret: NAME}]`, the facts POSTed as JSON and
signed with the project's secret when one is named (ick.notify.webhook)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ick.notify.channel import Channel, Senders, Target


def where(url: str) -> str:
    """The URL without user, password, path or query, which may carry credentials."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"webhook {parts.scheme}://{parts.hostname}{port}"


def _address_ok(value: object) -> bool:
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return parts is not None and parts.scheme in ("http", "https") and parts.netloc != ""


async def _send(senders: Senders, target: Target, doc: Mapping[str, Any]) -> str:
    from ick.notify.webhook import send_webhook  # aiohttp: the daemon's, not ick apply's

    key = None if target.secret is None else senders.secret(target.secret)
    return await send_webhook(senders.session, target.address, dict(doc), key)


WEBHOOK = Channel(
    "webhook", _address_ok, "an http or https url", _send,
    shown=lambda target: where(target.address), takes_secret=True,
)
