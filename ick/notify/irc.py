"""Sending notifications to IRC channels: one connection while messages are due (asyncio
streams; TLS and a server password if the settings say so), each channel joined once, a
NOTICE per line, QUIT when no message waits.

IRC never says a message arrived. ick counts one sent only when a PING it sent after the
message has its PONG: the server has then read the NOTICE, and any refusal of it would have
come first. A connection that drops before that fails the attempt, and the outbox tries it
again: a message may then come twice, never not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from pathlib import Path

from ick.config import IrcSettings
from ick.errors import SendError
from ick.notify.tls import tls_context, tls_problem

log = logging.getLogger(__name__)

TIMEOUT = 30.0  # one delivery, connecting included
CLOSE_TIMEOUT = 5.0
TEXT_BYTES = 400  # of a NOTICE's text: an IRC line is 512 bytes with the prefix the server adds
NICK_TRIES = 4  # `ick`, then `ick_`, `ick__`, ... while the server says the nick is taken
# Numerics that refuse a JOIN or a NOTICE to a channel.
REFUSALS = {"401", "403", "404", "405", "442", "471", "473", "474", "475", "476", "477"}


def parse(line: str) -> tuple[str, str, list[str]]:
    """An IRC line as (prefix, command, parameters); the trailing parameter last."""
    prefix = ""
    if line.startswith(":"):
        prefix, _, line = line[1:].partition(" ")
    head, sep, trailing = line.partition(" :")
    parts = head.split()
    command = parts[0].upper() if parts else ""
    return prefix, command, parts[1:] + ([trailing] if sep else [])


def pieces(text: str, limit: int = TEXT_BYTES) -> list[str]:
    """`text` cut into parts of at most `limit` UTF-8 bytes, never inside a character."""
    out: list[str] = []
    data = text.encode()
    while data:
        cut = min(len(data), limit)
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        out.append(data[:cut].decode())
        data = data[cut:]
    return out or [""]


def _password(settings: IrcSettings) -> str | None:
    """Read at each connection, so a changed password needs no restart."""
    if settings.password_file is None:
        return None
    try:
        return Path(settings.password_file).read_text().strip("\r\n")
    except OSError as e:
        raise SendError(f"irc: cannot read password_file {settings.password_file}: "
                        f"{(e.strerror or str(e)).lower()}") from None


class _Connection:
    """One registered connection to the server: the channels joined on it, its nick."""

    def __init__(self, settings: IrcSettings, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.settings = settings
        self.place = f"irc {settings.server}"
        self.reader = reader
        self.writer = writer
        self.nick = settings.nick
        self.joined: set[str] = set()
        self._pings = itertools.count(1)

    @classmethod
    async def open(cls, settings: IrcSettings) -> _Connection:
        place = f"irc {settings.server}"
        password = _password(settings)
        try:
            reader, writer = await asyncio.open_connection(
                settings.host, settings.port, ssl=tls_context() if settings.tls else None,
                server_hostname=settings.host if settings.tls else None)
        except OSError as e:
            # asyncio's own strerror names the address, which the message names already
            reason = tls_problem(e) or (os.strerror(e.errno) if e.errno else str(e)).lower()
            raise SendError(f"{place}: cannot connect: {reason}") from None
        connection = cls(settings, reader, writer)
        try:
            await connection._register(password)
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _send(self, line: str) -> None:
        if "\r" in line or "\n" in line or "\0" in line:
            raise SendError(f"{self.place}: a line may not hold CR, LF or NUL")
        self.writer.write(line.encode() + b"\r\n")
        try:
            await self.writer.drain()
        except OSError as e:
            raise SendError(f"{self.place}: connection lost: "
                            f"{(e.strerror or str(e)).lower()}") from None

    async def _read(self) -> tuple[str, str, list[str]]:
        """The next line (PINGs answered on the way); SendError when the server goes."""
        while True:
            try:
                raw = await self.reader.readline()
            except (OSError, ValueError) as e:  # ValueError: a line past the stream's limit
                raise SendError(f"{self.place}: connection lost: {e}") from None
            if not raw:
                raise SendError(f"{self.place}: the server closed the connection")
            prefix, command, params = parse(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            if command == "PING":
                await self._send(f"PONG :{params[-1] if params else ''}")
                continue
            if command == "ERROR":
                raise SendError(f"{self.place}: the server said: {' '.join(params)}"[:300])
            return prefix, command, params

    async def _register(self, password: str | None) -> None:
        if password:
            await self._send(f"PASS :{password}")
        await self._send(f"NICK {self.nick}")
        await self._send(f"USER {self.settings.nick} 0 * :ick")
        tries = 1
        while True:
            _, command, params = await self._read()
            if command == "001":
                self.nick = params[0] if params else self.nick
                return
            if command in ("432", "433", "436", "437"):  # taken (the old connection, say)
                if tries >= NICK_TRIES:
                    raise SendError(f"{self.place}: nick {self.settings.nick} and "
                                    f"{tries - 1} more are taken or refused")
                tries += 1
                self.nick += "_"
                await self._send(f"NICK {self.nick}")
            elif command in ("464", "465"):
                raise SendError(f"{self.place}: refused: {' '.join(params[1:])}")

    async def notice(self, channel: str, lines: list[str]) -> str:
        """NOTICE each line to `channel` (joining it first if this connection has not), and
        wait until the server has read them."""
        if channel.lower() not in self.joined:
            await self._send(f"JOIN {channel}")
            await self._until_joined(channel)
            self.joined.add(channel.lower())
        for line in lines:
            for piece in pieces(line):
                await self._send(f"NOTICE {channel} :{piece}")
        token = f"ick-{next(self._pings)}"
        await self._send(f"PING :{token}")
        refused: str | None = None
        while True:
            _, command, params = await self._read()
            if command == "PONG" and params and params[-1] == token:
                break
            if command in REFUSALS and len(params) > 1 and params[1].lower() == channel.lower():
                refused = " ".join(params[2:]) or command
        if refused is not None:
            self.joined.discard(channel.lower())  # kicked, say: join again next time
            raise SendError(f"{self.place}: {channel} refused the notice: {refused}")
        return f"{self.place}: {len(lines)} lines to {channel}, read by the server"

    async def _until_joined(self, channel: str) -> None:
        while True:
            prefix, command, params = await self._read()
            if (command == "JOIN" and prefix.split("!")[0] == self.nick and params
                    and params[0].lower() == channel.lower()):
                return
            if command in REFUSALS and len(params) > 1 and params[1].lower() == channel.lower():
                raise SendError(f"{self.place}: cannot join {channel}: "
                                f"{' '.join(params[2:]) or command}")

    async def quit(self) -> None:
        with contextlib.suppress(SendError, OSError):
            await self._send("QUIT :ick is done")
        await self.close()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.writer.wait_closed()


class IrcLink:
    """The daemon's one way to IRC: deliveries take turns on one connection, which is made
    for the first and closed (QUIT) when the last one waiting is done."""

    def __init__(self, settings: IrcSettings | None) -> None:
        self.settings = settings
        self._turn = asyncio.Lock()
        self._waiting = 0
        self._connection: _Connection | None = None

    async def deliver(self, channel: str, lines: list[str]) -> str:
        """NOTICE `lines` to `channel`; what happened; raises SendError (then nothing counts
        as delivered, though some lines may have arrived)."""
        settings = self.settings
        if settings is None:
            raise SendError("irc: not configured (set irc: {server: HOST:PORT, nick: NAME} in "
                            "ick.yaml)")
        self._waiting += 1
        waiting = True
        try:
            async with self._turn:
                self._waiting -= 1
                waiting = False
                try:
                    async with asyncio.timeout(TIMEOUT):
                        if self._connection is None:
                            self._connection = await _Connection.open(settings)
                            log.info("irc %s: connected as %s", settings.server,
                                     self._connection.nick)
                        return await self._connection.notice(channel, lines)
                except TimeoutError:
                    await self._drop()
                    raise SendError(f"irc {settings.server}: timed out after "
                                    f"{TIMEOUT:.0f} s") from None
                except BaseException:
                    await self._drop()  # a connection in an unknown state is not reused
                    raise
                finally:
                    if self._waiting == 0 and self._connection is not None:
                        connection, self._connection = self._connection, None
                        await connection.quit()
        finally:
            if waiting:
                self._waiting -= 1

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def close(self) -> None:
        await self._drop()


async def answers(settings: IrcSettings) -> str:
    """Connect, register and QUIT (for `ick doctor`): the nick the server gave; SendError."""
    async with asyncio.timeout(TIMEOUT):
        connection = await _Connection.open(settings)
        await connection.quit()
        return connection.nick
