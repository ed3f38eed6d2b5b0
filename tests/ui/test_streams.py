"""A live log's event stream at daemon shutdown: ended cleanly, not cut after a grace time."""

from __future__ import annotations

import http.client
from collections.abc import Callable

from tests.daemon import Daemon
from tests.ui.web import PROJECTS, http_session


def test_open_streams_end_cleanly_when_the_daemon_stops(
        start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon(workers=0)  # nothing runs: the build stays queued, its log live
    daemon.apply(PROJECTS)
    build_id = daemon.trigger("good")
    opener = http_session(daemon)
    stream = opener.open(f"{daemon.url}/ui/builds/{build_id}/events", timeout=30)
    assert stream.headers["Content-Type"] == "text/event-stream"
    first = b""
    while b"event: state" not in first:
        first += stream.read1(65536)
    assert b'"state": "queued"' in first
    assert daemon.stop() == 0
    # The stream was finished by the daemon (the chunked body's last chunk came), not cut:
    # a cut stream raises IncompleteRead here.
    try:
        rest = stream.read()
    except http.client.IncompleteRead as e:
        raise AssertionError(f"the stream was cut, not ended: {e.partial[-200:]!r}") from None
    assert b"event: end" not in rest  # the build did not end: the browser will resume later
