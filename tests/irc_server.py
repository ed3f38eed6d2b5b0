"""A real IRC server for notification tests: Debian's ngircd on a free loopback port, in the
foreground with its own configuration (stopped and started again on the same port when a
test says so), and a reader: a plain IRC client in a thread that sits in channels and keeps
every line it is sent.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from tests.matrix_server import free_port
from tests.notify_servers import _Collector
from tests.polling import poll

NGIRCD = "/usr/sbin/ngircd"
START_TIMEOUT = 20.0
WAIT = 30.0


def ngircd_missing() -> str | None:
    if shutil.which(NGIRCD) is None and shutil.which("ngircd") is None:
        return "ngircd is not installed (Debian: ngircd; scripts/install --test installs it)"
    return None


class Ngircd:
    """ngircd with a configuration of its own in `root`; `password`: the server's PASS."""

    def __init__(self, root: Path, password: str | None = None,
                 certificate: tuple[Path, Path] | None = None) -> None:
        """With `certificate` (and its key), also TLS on `tls_port`."""
        self.root = root
        self.port = free_port()
        self.tls_port = free_port() if certificate else None
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None
        self.config = root / "ngircd.conf"
        (root / "motd").write_text("ick test server\n")
        self.config.write_text("\n".join([
            "[Global]", "Name = irc.ick.test", "Info = ick test server",
            "Listen = 127.0.0.1", f"Ports = {self.port}",
            f"MotdFile = {root / 'motd'}", f"PidFile = {root / 'ngircd.pid'}",
            *([f"Password = {password}"] if password else []),
            "[Limits]", "PingTimeout = 120", "PongTimeout = 20", "MaxConnectionsIP = 0",
            "[Options]", "PAM = no", "Ident = no", "DNS = no", "SyslogFacility = ",
            *(["[SSL]", f"CertFile = {certificate[0]}", f"KeyFile = {certificate[1]}",
               f"Ports = {self.tls_port}"] if certificate else []),
            "", ""]))

    def start(self) -> Ngircd:
        log = open(self.root / "ngircd.log", "ab")  # noqa: SIM115 (the process holds it)
        self.proc = subprocess.Popen([shutil.which("ngircd") or NGIRCD, "-n", "-f",
                                      str(self.config)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        proc = self.proc

        def listening() -> bool:
            if proc.poll() is not None:
                raise RuntimeError("ngircd exited: "
                                   + (self.root / "ngircd.log").read_text()[-2000:])
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        poll(listening, bool, START_TIMEOUT, lambda _: "ngircd did not listen in time")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(WAIT)
            self.proc = None


class IrcReader(_Collector):
    """A client that registers as `nick`, joins `channels` and keeps each line it reads
    (as text without CRLF); it answers the server's PINGs."""

    def __init__(self, server: Ngircd, nick: str, channels: list[str]) -> None:
        _Collector.__init__(self)
        self.server = server
        self.nick = nick
        self.channels = channels
        self.sock: socket.socket | None = None
        self.thread: threading.Thread | None = None

    def connect(self) -> IrcReader:
        """Connect and wait until every channel is joined."""
        with self.cond:  # a second connection: its own joins are awaited, not the first's
            before = {c: self._joins(c) for c in self.channels}
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=WAIT)
        self.sock = sock
        lines = []
        if self.server.password:
            lines.append(f"PASS {self.server.password}")
        lines += [f"NICK {self.nick}", f"USER {self.nick} 0 * :reader"]
        lines += [f"JOIN {c}" for c in self.channels]
        sock.sendall("".join(f"{line}\r\n" for line in lines).encode())
        self.thread = threading.Thread(target=self._read, args=(sock,), daemon=True)
        self.thread.start()
        for channel in self.channels:
            self.wait(lambda _, c=channel: self._joins(c) > before[c],  # type: ignore[misc]
                      f"joined {channel}")
        return self

    def _joins(self, channel: str) -> int:
        """366 (the end of the channel's names) comes once each time the reader joins."""
        return sum(f" 366 {self.nick} {channel} " in line for line in self.items)

    def _read(self, sock: socket.socket) -> None:
        buffer = b""
        sock.settimeout(None)
        while True:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while b"\r\n" in buffer:
                raw, buffer = buffer.split(b"\r\n", 1)
                line = raw.decode("utf-8", errors="replace")
                if line.startswith("PING "):
                    try:
                        sock.sendall(b"PONG " + raw[5:] + b"\r\n")
                    except OSError:
                        return
                self.add(line)

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.sendall(b"QUIT :bye\r\n")
            self.sock.close()
            self.sock = None
        if self.thread is not None:
            self.thread.join(WAIT)
            self.thread = None

    def notices(self, channel: str) -> list[str]:
        """The text of each NOTICE sent to `channel`, in order."""
        with self.cond:
            return [line.split(" :", 1)[1] for line in self.items
                    if f" NOTICE {channel} :" in line]

    def wait_notices(self, channel: str, check: Callable[[list[str]], bool], what: str,
                     timeout: float = 60.0) -> list[str]:
        self.wait(lambda _: check(self.notices(channel)), what, timeout)
        return self.notices(channel)

    def from_nick(self, prefix: str, command: str) -> list[str]:
        """Lines of `command` from a nick starting with `prefix` (ick's JOINs, QUITs)."""
        with self.cond:
            return [line for line in self.items
                    if line.startswith(f":{prefix}") and f" {command} " in line]

