"""Real receivers for notification tests: an SMTP server (aiosmtpd) and a webhook server
(aiohttp), each on a loopback port in its own thread and event loop, so blocking test code
(the `ick` CLI, polling) never stalls them.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

WAIT = 30.0


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key, made in `folder`."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A TLS server context that presents `certificate`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


class _LoopThread:
    """An event loop running in a daemon thread; coroutines are submitted to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(WAIT)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()


class _Collector:
    """What a sink received, and a bounded wait for it."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.items: list[Any] = []
        self.arrived: list[float] = []  # time.time() of each item, for bench/notify.py

    def add(self, item: Any) -> None:
        with self.cond:
            self.items.append(item)
            self.arrived.append(time.time())
            self.cond.notify_all()

    def wait(self, check: Callable[[list[Any]], bool], what: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not check(self.items):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{what}: not received in {timeout} s; got {self.items}")
                self.cond.wait(left)


class MailSink(_LoopThread, _Collector):
    """An SMTP server that keeps every message. Starts down (the port refuses connections)
    unless `up` is called; the port is held by a bound socket all along, so it cannot be lost.
    """

    def __init__(self, users: dict[str, str] | None = None, tls: ssl.SSLContext | None = None,
                 starttls: bool = False) -> None:
        """`tls` with `starttls`: STARTTLS required; `tls` alone: TLS from the first byte."""
        _LoopThread.__init__(self)
        _Collector.__init__(self)
        self.users = users
        self.tls = tls
        self.starttls = starttls
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.logins: list[str] = []
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        # SMTP carries CRLF line ends; a mail reader shows plain lines
        content = envelope.content.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.add(message)
        return "250 OK"

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword) or self.users is None:
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        ok = self.users.get(user) == password
        if ok:
            self.logins.append(user)
        return AuthResult(success=ok, handled=False)

    def up(self) -> MailSink:
        async def start() -> asyncio.Server:
            def protocol() -> SMTP:
                options: dict[str, Any] = {}
                if self.users is not None:
                    # AUTH without TLS: fine on loopback (auth_required too would warn)
                    options.update(authenticator=self._authenticate, auth_require_tls=False)
                if self.starttls:
                    options.update(tls_context=self.tls, require_starttls=True)
                return SMTP(self, hostname="sink.test", **options)

            implicit = self.tls if not self.starttls else None
            return await asyncio.get_running_loop().create_server(protocol, sock=self.sock,
                                                                  ssl=implicit)

        self._server = self.call(start())
        return self

    def close(self) -> None:
        async def stop(server: asyncio.Server) -> None:
            server.close()
            await server.wait_closed()

        if self._server is not None:
            self.call(stop(self._server))
        else:
            self.sock.close()
        _LoopThread.close(self)

    def to(self, address: str, build_id: int | None = None) -> list[EmailMessage]:
        with self.cond:
            return [m for m in self.items if m["To"] == address
                    and (build_id is None or m["X-Ick-Build"] == str(build_id))]

    def wait_count(self, count: int, timeout: float = WAIT) -> None:
        self.wait(lambda items: len(items) >= count, f"{count} mails", timeout)


@dataclass
class Hook:
    """One webhook request as received."""

    path: str
    headers: dict[str, str]
    body: bytes
    doc: dict[str, Any] = field(default_factory=dict)
    signature_ok: bool | None = None


class HookSink(_LoopThread, _Collector):
    """An aiohttp server that records each POST, checks its signature against `key`, and answers
    with the statuses in `statuses` (then 200); over https with `tls`."""

    def __init__(self, key: bytes | None = None, statuses: list[int] | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        _LoopThread.__init__(self)
        _Collector.__init__(self)
        self.key = key
        self.statuses = list(statuses or [])
        self.tls = tls
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.url = self.call(self._start())

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        hook = Hook(request.path, dict(request.headers), body, json.loads(body))
        if self.key is not None:
            expected = "sha256=" + hmac.new(self.key, body, hashlib.sha256).hexdigest()
            given = request.headers.get("X-Ick-Signature", "")
            hook.signature_ok = hmac.compare_digest(expected, given)
        self.add(hook)
        status = self.statuses.pop(0) if self.statuses else 200
        response = web.Response(status=status, text="thanks" if status == 200 else "no")
        if self.tls is not None:
            # No TLS connection left open for close() to end: a TLS goodbye takes turns of the
            # loop that close() stops, and the socket would be left behind.
            response.force_close()
        return response

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.tls)
        await site.start()
        port = self.runner.addresses[0][1]
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

    def close(self) -> None:
        if self.runner is not None:
            self.call(self.runner.cleanup())
        _LoopThread.close(self)

    def wait_count(self, count: int, timeout: float = WAIT) -> None:
        self.wait(lambda items: len(items) >= count, f"{count} webhooks", timeout)
