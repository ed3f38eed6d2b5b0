"""Fixtures shared by the notification tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ick.notify.tls import tls_context
from tests.notify_servers import self_signed


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(autouse=True)
def fresh_tls_context() -> Iterator[None]:
    """Each test's TLS clients load the CA certificates its own environment names."""
    tls_context.cache_clear()
    yield
    tls_context.cache_clear()
