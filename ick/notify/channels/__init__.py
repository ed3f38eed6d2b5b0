"""Every notification channel, one record each: the .ick file checks, the outbox and `ick
doctor` read this list. A new channel is one new module here and one line in CHANNELS.
"""

from __future__ import annotations

from collections.abc import Mapping

from ick.notify.channel import Channel, Target, points_of
from ick.notify.channels.email import EMAIL
from ick.notify.channels.irc import IRC
from ick.notify.channels.matrix import MATRIX
from ick.notify.channels.webhook import WEBHOOK

CHANNELS: tuple[Channel, ...] = (
    EMAIL,
    WEBHOOK,
    MATRIX,
    IRC,
)

BY_KEY: dict[str, Channel] = {c.key: c for c in CHANNELS}


def target_of(entry: Mapping[str, object]) -> Target | None:
    """A checked `notify:` entry (as projects store it) as a Target; None if it names no
    channel this daemon has."""
    channel = next((c for c in CHANNELS if c.key in entry), None)
    address = None if channel is None else entry[channel.key]
    if channel is None or not isinstance(address, str):
        return None
    secret = entry.get("secret")
    return Target(channel.key, address, str(entry.get("when", "always")),
                  points_of(entry.get("on")), secret if isinstance(secret, str) else None)
