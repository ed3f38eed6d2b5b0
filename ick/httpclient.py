"""The daemon's one HTTP client session (webhooks and Matrix now; forges' status APIs later),
made at its first use with ick's TLS context."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import aiohttp

from ick.errors import SendError
from ick.notify.tls import tls_context, tls_problem


def request_failure(place: str, error: TimeoutError | aiohttp.ClientError,
                    timeout: float) -> SendError:
    """A request to `place` that failed with `error`, in one line: a timeout, a TLS failure
    in words, a refused connection (os.strerror, not aiohttp's repr), or aiohttp's error."""
    if isinstance(error, TimeoutError):
        return SendError(f"{place}: timed out after {timeout:.0f} s")
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        refused = tls_problem(error.certificate_error) or f"certificate verify failed: {error}"
        return SendError(f"{place}: {refused}")
    if isinstance(error, aiohttp.ClientConnectorError):
        problem = tls_problem(error.os_error)
        if problem is not None:
            return SendError(f"{place}: {problem}")
        reason = os.strerror(error.errno) if error.errno else str(error)
        return SendError(f"{place}: cannot connect: {reason.lower()}")
    return SendError(f"{place}: {type(error).__name__}: {error}")


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
