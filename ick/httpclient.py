"""The daemon's one HTTP client session (webhooks and Matrix now; forges' status APIs later),
made at its first use with ick's TLS context."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp

from ick.notify.tls import tls_context


class HttpClient:
    """Hands out the one `aiohttp.ClientSession`, made when something first sends: a daemon
    that never sends loads no CA certificates and keeps no connection pool."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        """The session (made now if it is not yet; call it from the daemon's event loop).
        HTTPS through it checks certificates against the system's CA bundle, or the one
        SSL_CERT_FILE names, whichever client uses it."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=tls_context()))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@contextlib.asynccontextmanager
async def open_http() -> AsyncIterator[HttpClient]:
    client = HttpClient()
    try:
        yield client
    finally:
        await client.close()
