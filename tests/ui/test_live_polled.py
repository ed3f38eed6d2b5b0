"""ick/ui/live.py's polled log (`log.txt?offset=N`), what a build page reads when the daemon
refuses it a live stream: over HTTP, and in a real browser that follows a build to its end."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.daemon import Daemon
from tests.ui.web import PROJECTS, Ui, session_cookie


def polled(daemon: Daemon, build_id: int, offset: int, cookie: str) -> tuple[Any, bytes]:
    request = urllib.request.Request(f"{daemon.url}/ui/builds/{build_id}/log.txt?offset={offset}",
                                     headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.headers, reply.read()


def test_the_polled_log_says_where_it_starts_and_when_it_ends(
        start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon(workers=1)
    daemon.apply(PROJECTS)
    cookie = session_cookie(daemon)
    done = daemon.trigger("good")
    daemon.wait_build(done)
    headers, body = polled(daemon, done, 0, cookie)
    assert b"fine\n" in body
    assert (headers["X-Ick-Offset"], headers["X-Ick-State"], headers["X-Ick-End"]) == (
        "0", "succeeded", "1")
    headers, rest = polled(daemon, done, 5, cookie)
    assert headers["X-Ick-Offset"] == "5" and rest == body[5:]
    hanging = daemon.trigger("hang")
    daemon.wait_log(hanging, "started")
    headers, body = polled(daemon, hanging, 0, cookie)
    assert (headers["X-Ick-State"], headers["X-Ick-End"]) == ("running", "0")
    assert daemon.api("POST", f"/builds/{hanging}/+cancel")[0] == 200


def test_a_page_refused_a_stream_polls_the_log_to_the_end(
        browser: Any, start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon({"max_streams": 0})  # every live stream is refused
    daemon.apply(PROJECTS)
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(30_000)
    try:
        ui = Ui(daemon, context, context.new_page(), daemon.url)
        ui.login()
        build_id = daemon.trigger("slow", "lines=30")
        ui.goto(f"/ui/builds/{build_id}")
        ui.page.evaluate("window.sameDocument = true")
        log = ui.page.locator("#log")
        expect(log).to_contain_text("line 30", timeout=20_000)
        expect(ui.page.locator("#state")).to_have_text("succeeded", timeout=20_000)
        expect(ui.page.get_by_role("button", name="Rebuild")).to_be_visible()
        assert ui.page.evaluate("window.sameDocument") is True
        text = log.inner_text()
        assert [text.count(f"line {i}\n") for i in range(1, 31)] == [1] * 30
    finally:
        context.close()
