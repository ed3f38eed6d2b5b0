"""The IRC channel: `notify: [{irc: "#hello"}]`, NOTICEs sent over one connection to the daemon's
`irc: {server, tls, nick, password_file}` server (ick.notify.irc)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ick.errors import SendError
from ick.notify.channel import Channel, Senders, Target

if TYPE_CHECKING:
    from ick.config import Settings

# RFC 2812's channel: a prefix, then no space, comma, BEL or colon; 50 characters at most.
CHANNEL = re.compile(r"[#&+!][^\s,\x07:]{1,49}")


def _address_ok(value: object) -> bool:
    return isinstance(value, str) and CHANNEL.fullmatch(value) is not None


async def _send(senders: Senders, target: Target, doc: Mapping[str, Any]) -> str:
    from ick.notify.message import chat_lines

    if senders.irc is None:
        raise SendError("irc: not configured")
    return await senders.irc.deliver(target.address, chat_lines(dict(doc)))


async def _probe(settings: Settings) -> tuple[bool, str]:
    from ick.notify.irc import answers

    irc = settings.irc
    if irc is None:
        return True, "not configured (irc: {server: HOST:PORT, nick: NAME} in ick.yaml)"
    shown = (f"irc {irc.server}, tls {'on' if irc.tls else 'off'}, nick {irc.nick}"
             + (f", password_file {irc.password_file}" if irc.password_file else ""))
    try:
        nick = await answers(irc)
    except (SendError, TimeoutError) as e:
        said = e.message if isinstance(e, SendError) else "timed out"
        return False, f"{shown}: {said}"
    return True, f"{shown}: answers, registered as {nick}"


IRC = Channel(
    "irc", _address_ok, "a channel like #hello", _send,
    shown=lambda target: f"irc channel {target.address}", settings="irc", probe=_probe,
)
