"""ick/daemon/serve.py against a flood: 2,000 half-sent requests (no token, no end of headers)
at a real daemon that may open 256 files, and `/version` still answers within 2 s."""

from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ick.config import Settings
from ick.daemon.serve import FD_LIMIT, connection_limit, raise_fd_limit
from tests.daemon import Daemon

FLOOD = 2000
LOW_FDS = 256  # the daemon's soft and hard limit of open files


def closed_by_daemon(held: list[socket.socket], timeout: float) -> int:
    """Wait (at most `timeout` s) until the daemon has closed every socket; how many it has."""
    closed = 0
    with selectors.DefaultSelector() as selector:  # epoll: select() stops at 1024
        for sock in held:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while closed < len(held) and time.monotonic() < deadline:
            for key, _ in selector.select(deadline - time.monotonic()):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(4096)
                except OSError:  # reset: closed too
                    data = b""
                assert data == b"", data  # no answer to half a request
                selector.unregister(sock)
                closed += 1
    return closed


class LowFdDaemon(Daemon):
    """A daemon started under `ulimit -n 256` (soft and hard: it cannot raise it)."""

    def command(self, port: int) -> list[str]:
        return ["sh", "-c", f'ulimit -n {LOW_FDS} && exec "$@"', "sh", *super().command(port)]


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
    daemon = LowFdDaemon(tmp_path / "state", {"header_timeout": 3}, workers=1).start()
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
            # Those not closed to make room are closed when their headers are late.
            assert closed_by_daemon(held, 30) == FLOOD
    finally:
        for sock in held:
            sock.close()
        assert daemon.stop() == 0
    log = daemon.log_path.read_text(errors="replace")
    assert "max_connections: 56, not 512: this process may open only 256 files" in log
    assert log.count("cannot accept connections") <= 2
    assert log.count("all 56 connections are taken") <= 2
    assert "Traceback" not in log


def test_the_daemon_raises_its_soft_limit_of_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 512), hard))
        assert raise_fd_limit() == min(hard, FD_LIMIT)
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (min(hard, FD_LIMIT), hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_max_connections_leaves_room_when_files_are_few() -> None:
    settings = Settings()
    assert connection_limit(settings, 65536) == 512
    assert connection_limit(settings, 1024) == 512
    assert connection_limit(settings, 256) == 56
    assert connection_limit(settings, 64) == 16
