"""Sending to IRC (ick/notify/irc.py) against a real ngircd on loopback, read by a real client
in the channels; and against a server that drops the connection before it confirms."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ick.config import IrcSettings
from ick.errors import SendError
from ick.notify.irc import IrcLink, parse, pieces
from ick.notify.tls import tls_context
from tests.irc_server import IrcReader, Ngircd, ngircd_missing


def test_lines_are_parsed_and_cut_as_irc_wants() -> None:
    assert parse(":srv 001 ick :Welcome") == ("srv", "001", ["ick", "Welcome"])
    assert parse("PING :abc def") == ("", "PING", ["abc def"])
    assert parse(":n!u@h JOIN #x") == ("n!u@h", "JOIN", ["#x"])
    assert pieces("é" * 300, 401) == ["é" * 200, "é" * 100]  # never inside a character
    assert pieces("") == [""]


async def test_one_connection_joins_each_channel_once_and_quits_when_done(
        ngircd: Ngircd) -> None:
    reader = IrcReader(ngircd, "reader", ["#one", "#two"]).connect()
    try:
        link = IrcLink(IrcSettings("127.0.0.1", ngircd.port, nick="ickbot"))
        said = await asyncio.gather(
            link.deliver("#one", ["first line", "second line"]),
            link.deliver("#two", ["to two"]),
            link.deliver("#one", ["third line"]))
        assert said[0] == f"irc 127.0.0.1:{ngircd.port}: 2 lines to #one, read by the server"
        notices = await asyncio.to_thread(
            reader.wait_notices, "#one", lambda n: len(n) >= 3, "3 notices in #one")
        assert notices == ["first line", "second line", "third line"]
        assert reader.notices("#two") == ["to two"]
        await asyncio.to_thread(reader.wait, lambda _: reader.from_nick("ickbot", "QUIT") != [],
                                "ick's QUIT")
        # one connection for all three: each channel joined once, one QUIT
        joins = [line.split()[-1].lstrip(":") for line in reader.from_nick("ickbot", "JOIN")]
        assert sorted(joins) == ["#one", "#two"]
        assert len(reader.from_nick("ickbot", "QUIT")) == 1

        # the next message, later, is a new connection that joins again
        await link.deliver("#two", ["later"])
        await asyncio.to_thread(reader.wait_notices, "#two", lambda n: len(n) == 2, "later")
        assert len(reader.from_nick("ickbot", "JOIN")) == 3
    finally:
        reader.close()


async def test_a_server_password_is_sent_and_a_wrong_one_refused(tmp_path: Path) -> None:
    missing = ngircd_missing()
    if missing is not None:
        pytest.skip(missing)
    server = Ngircd(tmp_path, password="server-pass-1").start()
    reader = IrcReader(server, "reader", ["#locked"]).connect()
    try:
        (tmp_path / "good").write_text("server-pass-1\n")
        (tmp_path / "bad").write_text("wrong\n")
        good = IrcSettings("127.0.0.1", server.port, nick="ickbot",
                           password_file=str(tmp_path / "good"))
        await IrcLink(good).deliver("#locked", ["let in"])
        await asyncio.to_thread(reader.wait_notices, "#locked", lambda n: n == ["let in"],
                                "the notice")
        bad = IrcSettings("127.0.0.1", server.port, nick="ickbot2",
                          password_file=str(tmp_path / "bad"))
        with pytest.raises(SendError, match=f"^irc 127.0.0.1:{server.port}: "):
            await IrcLink(bad).deliver("#locked", ["kept out"])
        assert reader.notices("#locked") == ["let in"]
    finally:
        reader.close()
        server.stop()


async def test_tls_checks_the_servers_certificate(tmp_path: Path, certificate: tuple[Path, Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    missing = ngircd_missing()
    if missing is not None:
        pytest.skip(missing)
    server = Ngircd(tmp_path, certificate=certificate).start()
    reader = IrcReader(server, "reader", ["#secure"]).connect()  # plain, on the other port
    try:
        assert server.tls_port is not None
        link = IrcLink(IrcSettings("127.0.0.1", server.tls_port, tls=True, nick="ickbot"))
        with pytest.raises(SendError, match=f"^irc 127.0.0.1:{server.tls_port}: cannot "
                                            "connect: certificate verify failed"):
            await link.deliver("#secure", ["not trusted"])
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # now ick trusts it
        tls_context.cache_clear()
        await link.deliver("#secure", ["over tls"])
        await asyncio.to_thread(reader.wait_notices, "#secure", lambda n: n == ["over tls"],
                                "the notice")
    finally:
        reader.close()
        server.stop()


async def test_nothing_counts_as_sent_before_the_server_confirms() -> None:
    """A server that reads the NOTICE and drops the connection before the PONG: the delivery
    fails (the outbox retries it), and the next one connects again."""
    seen: list[str] = []
    drop = [True]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nick = "ick"
        while line := (await reader.readline()).decode().rstrip("\r\n"):
            seen.append(line)
            command = line.split()[0]
            if command == "NICK":
                nick = line.split()[1]
            elif command == "USER":
                writer.write(f":srv 001 {nick} :welcome\r\n".encode())
            elif command == "JOIN":
                writer.write(f":{nick}!u@h JOIN {line.split()[1]}\r\n".encode())
            elif command == "PING" and drop[0]:
                drop[0] = False
                break  # gone before it answered
            elif command == "PING":
                writer.write(f":srv PONG srv :{line.split(':', 1)[1]}\r\n".encode())
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        link = IrcLink(IrcSettings("127.0.0.1", port))
        with pytest.raises(SendError, match="the server closed the connection"):
            await link.deliver("#x", ["once"])
        assert "NOTICE #x :once" in seen  # it arrived, but no one said so
        said = await link.deliver("#x", ["once"])
        assert said.endswith("1 lines to #x, read by the server")
        assert seen.count("NOTICE #x :once") == 2
    finally:
        server.close()
        await server.wait_closed()
