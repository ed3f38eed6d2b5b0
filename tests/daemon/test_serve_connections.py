"""ick/daemon/serve.py against a flood: 2,000 half-sent requests (no token, no end of headers)
at a real daemon that may open 256 files, and `/version` still answers within 2 s."""

from __future__ import annotations

import contextlib
import resource
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon

FLOOD = 2000
FD_LIMIT = 256  # the daemon's soft and hard limit of open files


class LowFdDaemon(Daemon):
    """A daemon started under `ulimit -n 256` (soft and hard: it cannot raise it)."""

    def command(self, port: int) -> list[str]:
        return ["sh", "-c", f'ulimit -n {FD_LIMIT} && exec "$@"', "sh", *super().command(port)]


@contextlib.contextmanager
def own_fd_limit(wanted: int) -> Iterator[None]:
    """This test process holds the flood's sockets: raise its own soft limit for a while."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"needs {wanted} open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_version_answers_within_2_s_under_2000_half_sent_requests(tmp_path: Path) -> None:
    daemon = LowFdDaemon(tmp_path / "state", workers=1).start()
    held: list[socket.socket] = []
    try:
        host, port = daemon.url.removeprefix("http://").rsplit(":", 1)
        with own_fd_limit(FLOOD + 200):
            for _ in range(FLOOD):
                sock = socket.create_connection((host, int(port)), timeout=10)
                held.append(sock)
                with contextlib.suppress(OSError):  # already closed to make room: fine
                    sock.sendall(b"GET /vers")
            started = time.monotonic()
            with urllib.request.urlopen(daemon.url + "/version", timeout=2) as response:
                assert response.status == 200
                assert b'"ick"' in response.read()
            # The bound, on the answer to a real client in a flood.
            assert time.monotonic() - started < 2.0
    finally:
        for sock in held:
            sock.close()
        assert daemon.stop() == 0
    log = daemon.log_path.read_text(errors="replace")
    assert "max_connections: 128, not 512" in log
    assert log.count("cannot accept connections") <= 2
    assert log.count("all 128 connections are taken") <= 2
    assert "Traceback" not in log
