"""The Matrix channel: `notify: [{matrix: "!room:example.org"}]` (a room id or alias), posted as
an m.notice through the daemon's `matrix: {homeserver, token_file}` settings
(ick.notify.matrix)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ick.errors import SendError
from ick.notify.channel import Channel, Senders, Target

if TYPE_CHECKING:
    from ick.config import Settings

ROOM_ID = re.compile(r"![^\s:]+(?::\S+)?")  # room version 12's ids have no server part
ROOM_ALIAS = re.compile(r"#[^\s:]+:\S+")


def _address_ok(value: object) -> bool:
    return isinstance(value, str) and (ROOM_ID.fullmatch(value) is not None
                                       or ROOM_ALIAS.fullmatch(value) is not None)


# The sender is imported at first use: it needs aiohttp, which `ick apply` should not load.

async def _send(senders: Senders, target: Target, doc: Mapping[str, Any]) -> str:
    from ick.notify.matrix import send_notice
    from ick.notify.message import chat_lines

    if senders.matrix is None:
        raise SendError("matrix: not configured (set matrix: {homeserver, token_file} in "
                        "ick.yaml)")
    text = "\n".join(chat_lines(dict(doc)))
    return await send_notice(senders.session, senders.matrix, target.address, text,
                             senders.key)


async def _probe(settings: Settings) -> tuple[bool, str]:
    import aiohttp

    from ick.notify.matrix import where, whoami

    if settings.matrix is None:
        return True, "not configured (matrix: {homeserver: URL, token_file: PATH} in ick.yaml)"
    shown = f"{where(settings.matrix)}, token_file {settings.matrix.token_file}"
    try:
        async with aiohttp.ClientSession() as session:
            user = await whoami(session, settings.matrix)
    except SendError as e:
        return False, f"{shown}: {e.message}"
    return True, f"{shown}: answers, as {user}"


MATRIX = Channel(
    "matrix", _address_ok, "a room id (!id:server) or alias (#name:server)", _send,
    shown=lambda target: f"matrix room {target.address}", settings="matrix", probe=_probe,
)
