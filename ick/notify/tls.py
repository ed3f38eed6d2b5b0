"""ick's TLS client context (the daemon's HTTP session, mail and webhooks use it) and TLS
failures in words."""

from __future__ import annotations

import ssl
from functools import cache


@cache
def tls_context() -> ssl.SSLContext:
    """Checks servers against the system's CA certificates (or SSL_CERT_FILE's); one for the
    process, made when the daemon opens its HTTP session or a command first needs TLS."""
    return ssl.create_default_context()


def tls_problem(error: BaseException) -> str | None:
    """What went wrong, if `error` is a TLS failure: its errno is OpenSSL's, and
    os.strerror would call it "operation not permitted"."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {error.verify_message or error.reason}"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or error}"
    return None
