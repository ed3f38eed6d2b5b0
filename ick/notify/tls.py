"""TLS for mail and webhooks: one client context, made at first use, and TLS failures in words."""

from __future__ import annotations

import ssl
from functools import cache


@cache
def tls_context() -> ssl.SSLContext:
    """The system's CA certificates (or SSL_CERT_FILE's), loaded at the first TLS connection
    rather than at start: aiohttp's own default context is made while the daemon imports it,
    when `ick serve` has hidden the CA bundle (see ick.cli.serve)."""
    return ssl.create_default_context()


def tls_problem(error: BaseException) -> str | None:
    """What went wrong, if `error` is a TLS failure: its errno is OpenSSL's, and
    os.strerror would call it "operation not permitted"."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message or error.reason}"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or error}"
    return None
