"""ick/ui/live.py against a real daemon: live log streams past max_streams_per_session and
max_streams are refused (429) while pages, /version and triggers still answer; the streams
of a build that ends end; a closed tab logs no error."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tests.daemon import Daemon
from tests.polling import poll
from tests.ui.web import PROJECTS, session_cookie


class Stream:
    """One open live log stream (a browser tab's EventSource), over its own connection."""

    def __init__(self, daemon: Daemon, path: str, headers: dict[str, str]) -> None:
        host, port = daemon.url.removeprefix("http://").rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        self.seen = b""

    @property
    def status(self) -> int:
        return self.response.status

    def read_until(self, text: bytes) -> bytes:
        while text not in self.seen:
            chunk = self.response.read1(65536)
            assert chunk, f"the stream ended before {text!r}: {self.seen[-300:]!r}"
            self.seen += chunk
        return self.seen

    def read_to_end(self) -> bytes:
        self.seen += self.response.read()
        return self.seen

    def close(self) -> None:
        self.conn.close()


@contextmanager
def streams() -> Iterator[list[Stream]]:
    opened: list[Stream] = []
    try:
        yield opened
    finally:
        for stream in opened:
            stream.close()


def events(daemon: Daemon, build_id: int, cookie: str) -> Stream:
    return Stream(daemon, f"/ui/builds/{build_id}/events", {"Cookie": cookie})


def follow(daemon: Daemon, build_id: int) -> Stream:
    return Stream(daemon, f"/builds/{build_id}/log?follow=1",
                  {"Authorization": f"Bearer {daemon.admin_token}"})


def page(daemon: Daemon, path: str, cookie: str) -> int:
    request = urllib.request.Request(daemon.url + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return int(reply.status)


def test_streams_past_the_caps_are_refused_and_the_daemon_still_answers(
        start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon({"max_streams": 4, "max_streams_per_session": 2}, workers=0)
    daemon.apply(PROJECTS)
    build_id = daemon.trigger("good")  # no worker: it stays queued, its log live
    one, other = session_cookie(daemon), session_cookie(daemon)
    with streams() as opened:
        for _ in range(2):
            opened.append(events(daemon, build_id, one))
            opened[-1].read_until(b"event: state")
        over = events(daemon, build_id, one)
        opened.append(over)
        assert over.status == 429
        assert (b"too many live log streams open for one session or token "
                b"(2, max_streams_per_session): poll the log with ?offset= instead"
                in over.read_to_end())
        opened.append(follow(daemon, build_id))  # `ick log -f`: the admin token's first
        assert opened[-1].status == 200
        opened.append(events(daemon, build_id, other))
        opened[-1].read_until(b"event: state")
        for extra in (events(daemon, build_id, other), follow(daemon, build_id)):
            opened.append(extra)
            assert extra.status == 429
            assert b"too many live log streams open (4, max_streams)" in extra.read_to_end()
        # Everything else still answers.
        assert page(daemon, "/ui/", one) == 200
        assert page(daemon, f"/ui/builds/{build_id}", other) == 200
        assert daemon.api("GET", "/version")[0] == 200
        second = daemon.trigger("good")
        # The build ends: every stream of it ends, and gives its place back.
        assert daemon.api("POST", f"/builds/{build_id}/+cancel")[0] == 200
        for stream in (opened[0], opened[1], opened[4]):
            assert b"event: end" in stream.read_to_end()
        assert b"cancelled" in opened[3].read_to_end()
        again = events(daemon, second, one)
        opened.append(again)
        assert again.status == 200
        again.read_until(b"event: state")


def test_a_closed_tab_logs_no_error(start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon({"max_streams_per_session": 1}, workers=0)
    daemon.apply(PROJECTS)
    build_id = daemon.trigger("good")
    cookie = session_cookie(daemon)
    tab = events(daemon, build_id, cookie)
    tab.read_until(b"event: state")
    tab.close()
    # The build's log grows (it is cancelled): the closed tab's stream writes, and ends.
    assert daemon.api("POST", f"/builds/{build_id}/+cancel")[0] == 200

    def reopen() -> int:
        stream = events(daemon, daemon.trigger("good"), cookie)
        stream.close()
        return stream.status

    # The closed tab's place (its session's only one) is given back.
    poll(reopen, lambda status: status == 200, 20,
         lambda status: f"the closed tab's stream still holds its place: {status}")
    assert daemon.stop() == 0
    log = daemon.log_path.read_text(errors="replace")
    assert "ERROR" not in log and "Traceback" not in log, log[-3000:]


def test_a_stream_over_the_cap_is_refused_to_curl_too(
        start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon({"max_streams": 0}, workers=0)
    daemon.apply(PROJECTS)
    build_id = daemon.trigger("good")
    request = urllib.request.Request(
        f"{daemon.url}/builds/{build_id}/log?follow=1",
        headers={"Authorization": f"Bearer {daemon.admin_token}"})
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("a follower past max_streams was let in")
    except urllib.error.HTTPError as e:
        assert e.code == 429
    # The log itself, without following, is no stream.
    assert daemon.api("GET", f"/builds/{build_id}/log")[0] == 200
