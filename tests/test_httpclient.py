"""ick/httpclient.py: the daemon's one HTTP client session, made at its first use with ick's
TLS context, so any HTTPS client that uses it checks certificates as ick means it to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from ick.httpclient import HttpClient, open_http
from ick.notify.tls import tls_context
from tests.notify_servers import HookSink, self_signed


@pytest.fixture
def https_sink(tmp_path: Path) -> Iterator[tuple[HookSink, Path]]:
    """An https server on 127.0.0.1 with a self-signed certificate, and that certificate."""
    import ssl

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = HookSink(tls=context)
    tls_context.cache_clear()
    try:
        yield sink, cert
    finally:
        sink.close()
        tls_context.cache_clear()


async def test_the_session_is_made_at_first_use_and_then_kept() -> None:
    client = HttpClient()
    assert client._session is None  # an idle daemon holds no session and no CA certificates
    async with open_http() as client:
        first = client.session()
        assert client.session() is first
    assert first.closed


async def test_https_through_it_checks_certificates_without_being_told_how(
        https_sink: tuple[HookSink, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    sink, cert = https_sink
    # A client that forgets ssl=... on its request still gets ick's context: a certificate
    # nothing trusts is refused...
    async with open_http() as client:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await client.session().post(sink.url + "/x", json={"n": 1})
    assert sink.items == []
    # ...and one that SSL_CERT_FILE names is trusted.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    tls_context.cache_clear()
    async with open_http() as client, client.session().post(
            sink.url + "/x", json={"n": 2}) as response:
        assert response.status == 200
    sink.wait_count(1)
