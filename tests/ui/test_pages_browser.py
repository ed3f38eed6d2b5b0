"""The web UI in a real browser (Debian's chromium through Playwright), against `ick serve`."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from tests.ui.proxy import CuttableProxy
from tests.ui.web import Ui

ROOT = Path(__file__).parents[2]


def test_login_with_a_token_goes_where_it_was_asked_for(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui()
    ui.goto("/ui/projects/good")
    assert ui.path() == "/ui/login?next=/ui/projects/good"
    ui.page.get_by_label("Token").fill(ui.daemon.admin_token)
    ui.page.get_by_role("button", name="Log in").click()
    expect(ui.page.locator("h1")).to_contain_text("good")
    assert ui.path() == "/ui/projects/good"


def test_a_bad_token_is_refused_on_the_login_page(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui()
    ui.goto("/ui/")
    ui.page.get_by_label("Token").fill("ick_nothing_here")
    ui.page.get_by_role("button", name="Log in").click()
    expect(ui.page.get_by_role("alert")).to_have_text("invalid token")
    assert ui.cookie() is None


def test_login_with_a_one_use_link(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui()
    result = ui.daemon.ick("login-link")
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip()
    assert link.startswith(f"{ui.daemon.url}/ui/login?link=")
    ui.page.goto(link)
    ui.page.get_by_role("button", name="Log in").click()
    expect(ui.page.locator("h1")).to_have_text("Projects")
    # Used once: a second browser gets nowhere with it.
    other = make_ui()
    other.page.goto(link)
    other.page.get_by_role("button", name="Log in").click()
    expect(other.page.get_by_role("alert")).to_contain_text("this login link is used up")
    assert other.cookie() is None


def test_logout_ends_the_session_for_good(ui: Ui) -> None:
    old = ui.cookie()
    ui.page.get_by_role("button", name="Log out").click()
    ui.page.wait_for_url(re.compile(r".*/ui/login$"))
    ui.goto("/ui/")
    assert ui.path() == "/ui/login?next=/ui/"
    # The old cookie, put back, is worth nothing.
    assert old is not None
    ui.context.add_cookies([{"name": "ick_session", "value": old, "url": ui.base}])
    ui.goto("/ui/")
    assert ui.path().startswith("/ui/login")


def test_revoking_the_token_ends_its_sessions(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui()
    token = ui.daemon.ick("token", "create", "--scope", "read", "--name", "viewer").stdout.strip()
    ui.login(token)
    expect(ui.page.locator("h1")).to_have_text("Projects")
    expect(ui.page.get_by_role("button", name="Build now")).to_have_count(0)
    assert ui.daemon.ick("token", "revoke", token).returncode == 0
    ui.goto("/ui/")
    assert ui.path() == "/ui/login?next=/ui/"


def test_a_post_without_the_csrf_token_changes_nothing(ui: Ui) -> None:
    request = ui.context.request  # shares the browser's cookies: only the CSRF token lacks
    for form in ({}, {"_csrf": "0" * 64}):
        reply = request.post(ui.base + "/ui/projects/good/+build", form=form, max_redirects=0)
        assert reply.status == 403
        assert "bad csrf token" in reply.text()
    # The right token, from another site's page (its Origin), is refused as well.
    ui.goto("/ui/projects/good")
    csrf = ui.page.locator("input[name=_csrf]").first.get_attribute("value")
    reply = request.post(ui.base + "/ui/projects/good/+build", form={"_csrf": csrf},
                         headers={"Origin": "http://evil.example"}, max_redirects=0)
    assert reply.status == 403
    status, builds = ui.daemon.api("GET", "/builds")
    assert (status, builds) == (200, [])
    reply = request.post(ui.base + "/ui/projects/good/+build", form={"_csrf": csrf},
                         max_redirects=0)
    assert reply.status == 303


def test_the_dashboard_shows_a_failed_and_a_succeeded_project(ui: Ui) -> None:
    good, bad = ui.daemon.trigger("good"), ui.daemon.trigger("bad")
    ui.daemon.wait_build(good)
    ui.daemon.wait_build(bad)
    ui.goto("/ui/")
    expect(ui.page.locator("tr[data-project=good] .state")).to_have_text("succeeded")
    expect(ui.page.locator("tr[data-project=bad] .state")).to_have_text("failed")
    expect(ui.page.locator("tr[data-project=slow]")).to_contain_text("never built")
    ui.page.get_by_label("Last build").select_option("failed")
    ui.page.get_by_role("button", name="Filter").click()
    expect(ui.page.locator("tr[data-project]")).to_have_count(1)
    expect(ui.page.locator("tr[data-project=bad]")).to_be_visible()


def test_the_dashboard_refreshes_itself(ui: Ui) -> None:
    ui.goto("/ui/")
    expect(ui.page.locator("tr[data-project=good]")).to_contain_text("never built")
    ui.daemon.wait_build(ui.daemon.trigger("good"))
    expect(ui.page.locator("tr[data-project=good] .state")).to_have_text("succeeded",
                                                                        timeout=15_000)


def test_build_now_with_a_parameter(ui: Ui) -> None:
    ui.goto("/ui/projects/liw%2Fsite")  # a name with a '/', sent as %2F
    expect(ui.page.locator("h1")).to_contain_text("liw/site")
    form = ui.page.locator("form.build-now")
    expect(form.locator("input[name=count]")).to_have_value("2")
    form.locator("input[name=greeting]").fill("howdy")
    ui.page.evaluate("window.sameDocument = true")
    ui.page.get_by_role("button", name="Build now").click()
    ui.page.wait_for_url(re.compile(r".*/ui/builds/\d+$"))
    assert ui.page.evaluate("window.sameDocument") is True  # htmx swapped it in place
    build_id = int(ui.path().rsplit("/", 1)[1])
    expect(ui.page.locator("#state")).to_have_text("succeeded")
    expect(ui.page.locator("#log")).to_contain_text("greeting is howdy 3")
    assert ui.daemon.build(build_id)["parameters"] == {
        "greeting": "howdy", "count": 2, "ick_trigger": "ui", "ick_event": "manual"}


def test_a_live_log_is_followed_to_the_end_without_a_reload(ui: Ui) -> None:
    build_id = ui.daemon.trigger("slow", "lines=30")
    ui.goto(f"/ui/builds/{build_id}")
    ui.page.evaluate("window.sameDocument = true")
    log = ui.page.locator("#log")
    expect(log).to_contain_text("line 3")
    expect(ui.page.locator("#state")).to_have_text("running")
    expect(log).to_contain_text("line 30")
    expect(ui.page.locator("#state")).to_have_text("succeeded")
    expect(ui.page.locator("#action-0 .state")).to_have_text("succeeded")
    expect(ui.page.get_by_role("button", name="Rebuild")).to_be_visible()
    assert ui.page.evaluate("window.sameDocument") is True
    text = log.inner_text()
    assert [text.count(f"line {i}\n") for i in range(1, 31)] == [1] * 30


def test_a_dropped_stream_resumes_where_it_stopped(make_ui: Callable[..., Ui]) -> None:
    probe = make_ui()
    port = int(probe.daemon.url.rsplit(":", 1)[1])
    with CuttableProxy(port) as proxy:
        ui = make_ui(base=proxy.url)
        ui.login()
        build_id = ui.daemon.trigger("slow", "lines=40")
        ui.goto(f"/ui/builds/{build_id}")
        log = ui.page.locator("#log")
        expect(log).to_contain_text("line 8")
        proxy.cut()  # the browser's EventSource errs, waits, and asks again with Last-Event-ID
        expect(log).to_contain_text("line 40")
        expect(ui.page.locator("#state")).to_have_text("succeeded")
        text = log.inner_text()
        assert [text.count(f"line {i}\n") for i in range(1, 41)] == [1] * 40
        resumed = [r for r in proxy.requests if r.startswith(b"GET /ui/builds/")
                   and b"/events" in r.split(b"\r\n", 1)[0]]
        assert len(resumed) >= 2
        assert any(b"\r\nlast-event-id: " in r.lower() for r in resumed[1:])


HIDE = """hidden => {
    Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_a_hidden_tab_lets_go_of_the_stream_and_catches_up_when_shown(ui: Ui) -> None:
    build_id = ui.daemon.trigger("slow", "lines=60")
    ui.goto(f"/ui/builds/{build_id}")
    log = ui.page.locator("#log")
    expect(log).to_contain_text("line 3")
    ui.page.evaluate(HIDE, True)
    seen = log.inner_text()
    ui.daemon.wait_log(build_id, "line 25")
    assert log.inner_text() == seen  # nothing came while hidden: the stream was closed
    ui.page.evaluate(HIDE, False)
    expect(log).to_contain_text("line 60")
    expect(ui.page.locator("#state")).to_have_text("succeeded")
    text = log.inner_text()
    assert [text.count(f"line {i}\n") for i in range(1, 61)] == [1] * 60


def test_cancel_a_running_build(ui: Ui) -> None:
    build_id = ui.daemon.trigger("hang")
    ui.daemon.wait_log(build_id, "started")
    ui.goto(f"/ui/builds/{build_id}")
    ui.page.get_by_role("button", name="Cancel").click()
    expect(ui.page.locator("#state")).to_have_text("cancelled")
    assert ui.daemon.wait_build(build_id)["state"] == "cancelled"


def test_rebuild_queues_the_same_parameters(ui: Ui) -> None:
    first = ui.daemon.trigger("liw/site", "greeting=again")
    ui.daemon.wait_build(first)
    ui.goto(f"/ui/builds/{first}")
    ui.page.get_by_role("button", name="Rebuild").click()
    ui.page.wait_for_url(re.compile(rf".*/ui/builds/(?!{first}$)\d+$"))
    second = int(ui.path().rsplit("/", 1)[1])
    expect(ui.page.locator("#state")).to_have_text("succeeded")
    doc = ui.daemon.build(second)
    assert doc["parameters"] == {"greeting": "again", "count": 2,
                                 "ick_trigger": "rebuild", "ick_event": "manual"}


def test_markup_in_parameters_and_log_lines_shows_as_text(ui: Ui) -> None:
    evil = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    build_id = ui.daemon.trigger("liw/site", f"greeting={evil}")
    ui.daemon.wait_build(build_id)
    ui.goto(f"/ui/builds/{build_id}")
    expect(ui.page.locator("#log")).to_contain_text(f"greeting is {evil} 3")
    expect(ui.page.locator("table.parameters")).to_contain_text(evil)
    ui.goto("/ui/projects/liw/site")
    ui.goto(f"/ui/builds/{build_id}")
    assert ui.page.evaluate("typeof window.pwned") == "undefined"
    assert ui.page.locator("#log script, #log img, table.parameters img").count() == 0


def test_every_form_works_without_javascript(make_ui: Callable[..., Ui]) -> None:
    ui = make_ui(javascript=False)
    ui.login()
    ui.goto("/ui/projects/liw/site")
    ui.page.locator("input[name=greeting]").fill("plain")
    ui.page.get_by_role("button", name="Build now").click()
    ui.page.wait_for_url(re.compile(r".*/ui/builds/\d+$"))
    first = int(ui.path().rsplit("/", 1)[1])
    ui.daemon.wait_build(first)
    ui.page.reload()
    expect(ui.page.locator("#state")).to_have_text("succeeded")
    expect(ui.page.locator("#log")).to_contain_text("greeting is plain 3")
    ui.page.get_by_role("button", name="Rebuild").click()
    ui.page.wait_for_url(re.compile(rf".*/ui/builds/(?!{first}$)\d+$"))
    hang = ui.daemon.trigger("hang")
    ui.daemon.wait_log(hang, "started")
    ui.goto(f"/ui/builds/{hang}")
    ui.page.get_by_role("button", name="Cancel").click()
    assert ui.daemon.wait_build(hang)["state"] == "cancelled"
    ui.page.get_by_role("button", name="Log out").click()
    ui.page.wait_for_url(re.compile(r".*/ui/login$"))


def test_screenshots_of_the_dashboard_and_a_build(ui: Ui, tmp_path: Path) -> None:
    """The README's pictures, made by this browser: written to docs/ with ICK_SCREENSHOTS=1."""
    for project in ("good", "bad", "liw/site"):
        ui.daemon.wait_build(ui.daemon.trigger(project))
    running = ui.daemon.trigger("hang")
    ui.daemon.wait_log(running, "started")
    shots = ROOT / "docs" if os.environ.get("ICK_SCREENSHOTS") == "1" else tmp_path
    ui.page.set_viewport_size({"width": 900, "height": 560})
    ui.goto("/ui/")
    expect(ui.page.locator("tr[data-project=bad] .state")).to_have_text("failed")
    ui.page.screenshot(path=str(shots / "ui-dashboard.png"))
    ui.goto("/ui/builds/3")
    expect(ui.page.locator("#state")).to_have_text("succeeded")
    ui.page.screenshot(path=str(shots / "ui-build.png"), full_page=True)
    for name in ("ui-dashboard.png", "ui-build.png"):
        data = (shots / name).read_bytes()
        assert data.startswith(b"\x89PNG") and 5_000 < len(data) < 400_000
    # At a phone's width nothing is wider than the screen but the tables, which scroll.
    ui.page.set_viewport_size({"width": 390, "height": 800})
    ui.goto("/ui/builds/3")
    assert ui.page.evaluate("document.documentElement.scrollWidth") <= 390
