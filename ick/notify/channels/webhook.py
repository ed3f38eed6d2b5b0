"""The webhook channel: `notify: [{webhook: URL, secret: NAME}]`, the facts POSTed as JSON and
signed with the project's secret when one is named (ick.notify.webhook)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ick.notify.channel import Channel, Senders, Target


def _address_ok(value: object) -> bool:
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return parts is not None and parts.scheme in ("http", "https") and parts.netloc != ""


# The sender (ick.notify.webhook) is imported at first use: it needs aiohttp, which the
# daemon has loaded anyway and `ick apply`, which checks notify entries, should not load.

async def _send(senders: Senders, target: Target, doc: Mapping[str, Any]) -> str:
    from ick.notify.webhook import send_webhook

    key = None if target.secret is None else senders.secret(target.secret)
    return await send_webhook(senders.session, target.address, dict(doc), key)


def _shown(target: Target) -> str:
    from ick.notify.webhook import where

    return where(target.address)


WEBHOOK = Channel(
    "webhook", _address_ok, "an http or https url", _send, shown=_shown, takes_secret=True,
)
