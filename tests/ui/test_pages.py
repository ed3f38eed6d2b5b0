"""The web UI over HTTP, against the real app (aiohttp_client) on a real database: sessions,
login links, redirects, headers, escaping, the log's tail and its event stream."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from aiohttp import ClientTimeout, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from ick.api.app import make_app
from ick.daemon import Daemon
from ick.errors import AuthError
from ick.keepers.sessions import SessionKeeper
from ick.model import Project
from ick.storage.sessions import SessionStore
from ick.ui.access import safe_next
from ick.ui.live import TAIL
from tests.pipelines import checked
from tests.services import in_process

Client = TestClient[web.Request, web.Application]
PAGES = ["/ui/", "/ui/projects/liw/site", "/ui/builds/1", "/ui/builds/1/log.txt",
         "/ui/artifacts", "/ui/workers", "/badges/liw/site.svg"]


@pytest.fixture
async def daemon(services: Daemon) -> Daemon:
    await services.resources.put_pipeline(checked("greet", ["greeting"],
                                                  [{"shell": "true", "where": "host"}]))
    await services.resources.put_project(Project("liw/site", {"greeting": "hi", "n": 2},
                                                 ["greet"]))
    await services.controller.trigger("liw/site", {})  # build 1, queued: no worker runs
    return services


@pytest.fixture
async def client(daemon: Daemon, aiohttp_client: AiohttpClient) -> Client:
    return await aiohttp_client(make_app(daemon))


def admin(daemon: Daemon) -> str:
    return (daemon.settings.state_dir / "admin.token").read_text().strip()


def csrf_in(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


async def login(client: Client, token: str, next_: str = "/ui/") -> str:
    """Log in through the form; return where it sent us."""
    async with client.get("/ui/login") as reply:
        csrf = csrf_in(await reply.text())
    async with client.post("/ui/login", data={"_csrf": csrf, "token": token, "next": next_},
                           allow_redirects=False) as reply:
        assert reply.status == 303, await reply.text()
        return reply.headers["Location"]


def session_id(client: Client) -> str | None:
    for cookie in client.session.cookie_jar:
        if cookie.key == "ick_session":
            return cookie.value
    return None


async def test_the_root_goes_to_the_dashboard(client: Client) -> None:
    for path in ("/", "/ui"):
        async with client.get(path, allow_redirects=False) as reply:
            assert (reply.status, reply.headers["Location"]) == (302, "/ui/")


async def test_without_a_session_every_page_goes_to_the_login_page(
        client: Client) -> None:
    for path in PAGES + ["/ui/builds/1/events"]:
        async with client.get(path, allow_redirects=False) as reply:
            if path.endswith("/events"):
                assert reply.status == 401
                continue
            assert reply.status == 303, path
            assert reply.headers["Location"] == "/ui/login?next=" + path
    for path in ("/ui/projects/liw/site/+build", "/ui/builds/1/+cancel", "/ui/logout"):
        async with client.post(path, allow_redirects=False) as reply:
            assert reply.status == 303, path


async def test_pages_with_a_session(client: Client, daemon: Daemon) -> None:
    assert await login(client, admin(daemon)) == "/ui/"
    for path in PAGES + ["/ui/projects/liw%2Fsite", "/badges/liw%2Fsite.svg"]:
        async with client.get(path) as reply:
            assert reply.status == 200, path
            headers = reply.headers
            assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
            assert "script-src 'self';" in headers["Content-Security-Policy"]
            assert headers["X-Content-Type-Options"] == "nosniff"
    async with client.get("/ui/projects/liw%2Fsite") as reply:
        assert '<input id="p-1" name="greeting" value="hi">' in await reply.text()
    async with client.get("/ui/builds/99") as reply:
        assert reply.status == 404
        assert "no build 99" in await reply.text()
    async with client.get("/ui/projects/no/such") as reply:
        assert reply.status == 404
    async with client.get("/ui/?state=bogus") as reply:
        assert reply.status == 400


async def test_the_json_api_never_takes_the_cookie(
        client: Client, daemon: Daemon) -> None:
    await login(client, admin(daemon))
    for method, path in (("GET", "/builds"), ("GET", "/projects"), ("POST", "/login-links"),
                         ("POST", "/builds/1/+cancel")):
        async with client.request(method, path) as reply:
            assert reply.status == 401, path
            assert (await reply.json())["error"].startswith("missing token")
    assert (await daemon.builds.get(1)).state.value == "queued"  # type: ignore[union-attr]


def test_after_login_only_our_own_pages() -> None:
    for value, expected in [
        ("/ui/builds/3", "/ui/builds/3"), ("/ui/?q=a&state=failed", "/ui/?q=a&state=failed"),
        ("/ui", "/ui"), ("//evil.example/", "/ui/"), ("https://evil.example/ui/", "/ui/"),
        ("/\\evil.example", "/ui/"), ("/ui\\@evil.example", "/ui/"),
        ("/uievil", "/ui/"), ("/ui/../tokens", "/ui/../tokens"), ("", "/ui/"), (None, "/ui/"),
        ("/ui/\nSet-Cookie: x", "/ui/"), ("javascript:alert(1)", "/ui/"),
    ]:
        assert safe_next(value) == expected, value


async def test_login_never_sends_the_browser_to_another_site(
        client: Client, daemon: Daemon) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert await login(client, admin(daemon), target) == "/ui/"


async def test_login_makes_a_new_session_whatever_cookie_came(
        client: Client, daemon: Daemon) -> None:
    planted = "attacker-knows-this-value"
    async with client.get("/ui/login") as reply:
        csrf = csrf_in(await reply.text())
    login_cookie = reply.cookies["ick_login"].value
    async with client.post("/ui/login", data={"_csrf": csrf, "token": admin(daemon)},
                           headers={"Cookie": f"ick_login={login_cookie}; ick_session={planted}"},
                           allow_redirects=False) as reply:
        assert reply.status == 303
        fresh = reply.cookies["ick_session"].value
    assert fresh and fresh != planted
    client.session.cookie_jar.clear()
    async with client.get("/ui/", headers={"Cookie": f"ick_session={planted}"},
                          allow_redirects=False) as reply:
        assert reply.status == 303
    async with client.get("/ui/", headers={"Cookie": f"ick_session={fresh}"},
                          allow_redirects=False) as reply:
        assert reply.status == 200


async def test_only_the_sessions_digest_is_stored(client: Client, daemon: Daemon) -> None:
    await login(client, admin(daemon))
    sid = session_id(client)
    assert sid
    stored = b"".join(p.read_bytes() for p in daemon.settings.state_dir.glob("ick.db*"))
    assert sid.encode() not in stored
    assert hashlib.sha256(sid.encode()).hexdigest().encode() in stored


async def test_login_csrf_a_form_from_elsewhere_logs_no_one_in(
        client: Client, daemon: Daemon) -> None:
    # A cross-site form cannot send our SameSite cookie, so it lacks the login cookie's value.
    async with client.post("/ui/login", data={"_csrf": "x", "token": admin(daemon)},
                           allow_redirects=False) as reply:
        assert reply.status in (401, 403)
    assert session_id(client) is None


async def test_a_bad_build_now_value_is_a_clear_400(
        client: Client, daemon: Daemon) -> None:
    await login(client, admin(daemon))
    async with client.get("/ui/projects/liw/site") as reply:
        csrf = csrf_in(await reply.text())
    async with client.post("/ui/projects/liw/site/+build",
                           data={"_csrf": csrf, "greeting": "x", "n": "two"}) as reply:
        assert reply.status == 400
        assert "parameter &#39;n&#39;: expected JSON like the project&#39;s value 2" in \
            await reply.text()
    assert [b.id for b in await daemon.builds.list()] == [1]
    async with client.post("/ui/projects/liw/site/+build", allow_redirects=False,
                           data={"_csrf": csrf, "greeting": "x", "n": "[3]"}) as reply:
        assert (reply.status, reply.headers["Location"]) == (303, "/ui/builds/2")
    stored = await daemon.builds.get(2)
    assert stored is not None
    assert stored.parameters == {"greeting": "x", "n": [3],
                                 "ick_trigger": "ui", "ick_event": "manual"}


async def test_a_token_without_the_scope_cannot_build_or_cancel(
        client: Client, daemon: Daemon) -> None:
    token, _ = await daemon.tokens.create("viewer", ["read"])
    await login(client, token)
    async with client.get("/ui/builds/1") as reply:
        html = await reply.text()
        assert "Cancel</button>" not in html
    async with client.post("/ui/builds/1/+cancel", data={"_csrf": csrf_in(html)}) as reply:
        assert reply.status == 403
        assert "lacks the &#39;write&#39; scope" in await reply.text()
    assert (await daemon.builds.get(1)).state.value == "queued"  # type: ignore[union-attr]


async def test_login_links_are_one_use_and_last_sixty_seconds(daemon: Daemon) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    keeper = SessionKeeper(SessionStore(daemon.db), daemon.tokens, clock=lambda: now[0])
    record = daemon.tokens.list()[0]
    secret, expires = await keeper.make_link(record)
    assert expires == "2026-01-01T00:01:00.000Z"
    now[0] += timedelta(seconds=59)
    session = await keeper.session(await keeper.login_with_link(secret))
    assert session is not None and session.token.key_id == record.key_id
    with pytest.raises(AuthError, match="used up, expired or unknown"):
        await keeper.login_with_link(secret)
    late, _ = await keeper.make_link(record)
    now[0] += timedelta(seconds=61)
    with pytest.raises(AuthError, match="used up, expired or unknown"):
        await keeper.login_with_link(late)
    # A session lasts 14 days.
    sid = await keeper.login_with_token(admin(daemon))
    now[0] += timedelta(days=13)
    assert await keeper.session(sid) is not None
    now[0] += timedelta(days=2)
    assert await keeper.session(sid) is None


async def test_revoking_a_token_deletes_its_sessions_and_links(daemon: Daemon) -> None:
    keeper = SessionKeeper(SessionStore(daemon.db), daemon.tokens)
    token, record = await daemon.tokens.create("short-lived", ["read"])
    sid = await keeper.login_with_token(token)
    secret, _ = await keeper.make_link(record)
    assert await keeper.session(sid) is not None
    await daemon.tokens.revoke(record.key_id)
    assert await keeper.session(sid) is None
    assert await keeper.store.session_token(hashlib.sha256(sid.encode()).hexdigest(),
                                            "0000") is None  # the row went too
    with pytest.raises(AuthError):
        await keeper.login_with_link(secret)


async def test_the_login_link_route(client: Client, daemon: Daemon) -> None:
    headers = {"Authorization": f"Bearer {admin(daemon)}"}
    async with client.post("/login-links", headers=headers) as reply:
        assert reply.status == 201
        doc = await reply.json()
    assert doc["seconds"] == 60
    assert doc["url"].startswith(f"{daemon.base_url}/ui/login?link=")
    path = doc["url"][len(daemon.base_url):]
    async with client.get(path) as reply:
        html = await reply.text()
    link = re.search(r'name="link" value="([^"]+)"', html)
    assert link and link.group(1) == path.split("link=")[1]
    async with client.post("/ui/login", data={"_csrf": csrf_in(html), "link": link.group(1)},
                           allow_redirects=False) as reply:
        assert reply.status == 303
    assert session_id(client)


async def test_badges_are_public_only_when_configured(tmp_path: Path,
                                                      aiohttp_client: AiohttpClient) -> None:
    async with in_process(tmp_path / "s", public_badges=True) as daemon:
        await daemon.resources.put_pipeline(checked("p", [], [{"shell": "true"}]))
        await daemon.resources.put_project(Project("liw/site", {}, ["p"]))
        client = await aiohttp_client(make_app(daemon))
        async with client.get("/badges/liw/site.svg") as reply:
            assert reply.status == 200
            assert reply.content_type == "image/svg+xml"
            # no finished build: anonymously, as if there were no such project (issue 22)
            assert "build: unknown" in await reply.text()
        async with client.get("/badges/nobody.svg") as reply:
            assert "build: unknown" in await reply.text()
        async with client.get("/ui/", allow_redirects=False) as reply:
            assert reply.status == 303  # only the badges are public


async def test_a_page_shows_only_the_last_256_kib_of_a_log(
        client: Client, daemon: Daemon) -> None:
    await login(client, admin(daemon))
    lines = [f"line {i} <b>&amp;</b> \x1b[31mred\x1b[0m\n" for i in range(40_000)]
    daemon.logs.append(1, "".join(lines).encode())
    async with client.get("/ui/builds/1") as reply:
        html = await reply.text()
    log = html[html.index('<pre id="log"'):html.index("</pre>")]
    shown = unescape(re.sub(r"<[^>]*>", "", log))
    tail = "".join(lines).encode()[-TAIL:]
    expected = tail[tail.index(b"\n") + 1:].decode().replace("\x1b[31m", "").replace("\x1b[0m", "")
    assert shown == expected
    assert "line 39999 &lt;b&gt;&amp;amp;&lt;/b&gt; <span class=\"c31\">red</span>" in log
    assert "line 0 " not in log
    assert "of the log are not shown here" in html
    offset = int(re.search(r"events\?offset=(\d+)", html).group(1))  # type: ignore[union-attr]
    assert offset == daemon.logs.size(1)
    async with client.get("/ui/builds/1/log.txt") as reply:
        assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert await reply.text() == "".join(lines)


async def read_events(client: Client, path: str, count: int,
                      headers: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """The first `count` events of a stream: (event, id, data)."""
    events: list[tuple[str, str, str]] = []
    async with client.get(path, headers=headers, timeout=ClientTimeout(total=20)) as reply:
        assert reply.headers["Content-Type"] == "text/event-stream"
        buffer = b""
        while len(events) < count:
            chunk = await reply.content.readany()
            assert chunk, f"the stream ended after {events}"
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                fields = dict(line.split(": ", 1) for line in block.decode().splitlines()
                              if ": " in line)
                if "event" in fields:
                    events.append((fields["event"], fields.get("id", ""), fields["data"]))
    return events


async def test_the_event_stream_resumes_at_last_event_id(
        client: Client, daemon: Daemon) -> None:
    await login(client, admin(daemon))
    daemon.logs.append(1, "one\ntwo ✓\n".encode())
    events = await read_events(client, "/ui/builds/1/events?offset=0", 2)
    assert events[0] == ("log", str(len("one\ntwo ✓\n".encode())), json.dumps("one\ntwo ✓\n"))
    assert events[1][0] == "state" and json.loads(events[1][2])["state"] == "queued"
    # The browser comes back with Last-Event-ID, which wins over the page's ?offset.
    events = await read_events(client, "/ui/builds/1/events?offset=0", 1,
                               headers={"Last-Event-ID": "4"})
    assert events[0][0] == "log" and json.loads(events[0][2]) == "two ✓\n"
    # Half a character is never sent: it waits for the rest.
    daemon.logs.append(1, "three ✓".encode()[:-1])
    events = await read_events(client, "/ui/builds/1/events", 1, headers={"Last-Event-ID": "4"})
    assert json.loads(events[0][2]) == "two ✓\nthree "


async def test_a_long_backlog_is_skipped_to_the_tail(
        client: Client, daemon: Daemon) -> None:
    await login(client, admin(daemon))
    daemon.logs.append(1, b"x" * 100 + b"\n" + b"y\n" * (TAIL // 2 + 1000))
    events = await read_events(client, "/ui/builds/1/events?offset=0", 2)
    assert events[0][0] == "skip"
    sent = json.loads(events[1][2])
    assert "x" not in sent and sent.startswith("y\n")


async def test_a_finished_builds_stream_ends(client: Client, daemon: Daemon) -> None:
    await login(client, admin(daemon))
    await daemon.controller.cancel(1)
    events = await read_events(client, "/ui/builds/1/events?offset=0", 3)
    assert [e[0] for e in events] == ["log", "state", "end"]
    assert json.loads(events[2][2]) == {"state": "cancelled"}


async def test_the_workers_page_names_each_worker_and_what_it_runs(
        client: Client, daemon: Daemon) -> None:
    await login(client, admin(daemon))
    token = daemon.tokens.list()[0].key_id
    worker = await daemon.controller.register("box", {"kvm": ("yes",)}, 2, token)
    async with client.get("/ui/workers") as reply:
        html = await reply.text()
    row = html[html.index(f"<td>{worker}</td>"):]
    row = row[:row.index("</tr>")]
    assert "<td>remote</td>" in row and "<code>kvm=yes</code>" in row and "<td>2</td>" in row
    assert "idle" in row and "just now" in row
    item = await daemon.controller.next_work(worker, 5)  # it takes build 1
    assert item is not None and item.build_id == 1
    async with client.get("/ui/workers") as reply:
        assert '<a href="/ui/builds/1">build 1</a>' in await reply.text()


async def test_a_read_only_project_page_shows_the_parameters(
        client: Client, daemon: Daemon) -> None:
    token, _ = await daemon.tokens.create("viewer", ["read"])
    await login(client, token)
    async with client.get("/ui/projects/liw/site") as reply:
        html = await reply.text()
    assert "Build now</button>" not in html
    assert "<tr><th>greeting</th><td><code>hi</code></td></tr>" in html


async def test_a_projects_builds_come_in_pages_newest_first(
        client: Client, daemon: Daemon) -> None:
    await login(client, admin(daemon))
    for _ in range(59):
        await daemon.controller.trigger("liw/site", {})
    async with client.get("/ui/projects/liw/site") as reply:
        html = await reply.text()
    numbers = [int(n) for n in re.findall(r'<a href="/ui/builds/\d+">#(\d+)</a>', html)]
    assert numbers == list(range(60, 10, -1))
    assert "Builds <small>(60)</small>" in html
    assert 'href="/ui/projects/liw/site?before=11">older</a>' in html
    async with client.get("/ui/projects/liw/site?before=11") as reply:
        html = await reply.text()
    assert [int(n) for n in re.findall(r'<a href="/ui/builds/\d+">#(\d+)</a>', html)] == \
        list(range(10, 0, -1))
    assert ">older</a>" not in html and ">newest</a>" in html


async def test_the_dashboard_filters_by_name(client: Client, daemon: Daemon) -> None:
    await daemon.resources.put_project(Project("other", {}, ["greet"]))
    await login(client, admin(daemon))
    async with client.get("/ui/?q=SITE") as reply:
        html = await reply.text()
    assert 'data-project="liw/site"' in html and 'data-project="other"' not in html
    async with client.get("/ui/?state=never") as reply:
        html = await reply.text()
    assert 'data-project="other"' in html and 'data-project="liw/site"' not in html
    assert '<a href="/ui/builds/1">#1</a>' in html  # build 1 is queued: it is listed as active


async def test_artifacts_are_listed_and_downloaded(client: Client, daemon: Daemon) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"<html>not a page</html>"

    await daemon.artifacts.put("team/tool.tar", chunks())
    await login(client, admin(daemon))
    async with client.get("/ui/artifacts") as reply:
        html = await reply.text()
    assert '<a href="/ui/artifacts/team/tool.tar"' in html and "23 B" in html
    async with client.get("/ui/artifacts/team%2Ftool.tar") as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "application/octet-stream"
        assert reply.headers["Content-Disposition"] == 'attachment; filename="tool.tar"'
        assert await reply.read() == b"<html>not a page</html>"
    async with client.get("/ui/artifacts/nothing") as reply:
        assert reply.status == 404


async def test_behind_https_the_session_cookie_is_secure(
        tmp_path: Path, aiohttp_client: AiohttpClient) -> None:
    async with in_process(tmp_path / "s", public_url="https://ci.example") as daemon:
        client = await aiohttp_client(make_app(daemon))
        async with client.get("/ui/login") as reply:
            csrf = csrf_in(await reply.text())
            login_cookie = reply.cookies["ick_login"]
        assert login_cookie["secure"] and login_cookie["httponly"]
        async with client.post("/ui/login", allow_redirects=False,
                               headers={"Cookie": f"ick_login={login_cookie.value}",
                                        "Origin": "https://ci.example"},
                               data={"_csrf": csrf, "token": admin(daemon)}) as reply:
            assert reply.status == 303
            cookie = reply.cookies["ick_session"]
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
        assert cookie["path"] == "/"


async def test_revoking_the_token_ends_its_open_streams(client: Client, daemon: Daemon) -> None:
    token, record = await daemon.tokens.create("viewer", ["read"])
    await login(client, token)
    async with client.get("/ui/builds/1/events", timeout=ClientTimeout(total=20)) as reply:
        assert b"event: state" in await reply.content.readuntil(b"event: state")
        await daemon.tokens.revoke(record.key_id)
        rest = await reply.content.read()  # the stream ends (a stuck one would time out)
    assert b"event: end" not in rest


async def test_a_matrix_builds_page_shows_its_jobs_and_each_log(
        client: Client, daemon: Daemon) -> None:
    await daemon.resources.put_project(Project("multi", {"greeting": "hi"}, ["greet"],
                                               matrix={"compiler": ["gcc", "clang"]}))
    build = await daemon.controller.trigger("multi", {})
    assert len(build.jobs) == 2
    daemon.logs.append(build.id, b"built with gcc\n", job=0)
    daemon.logs.append(build.id, b"built with clang\n", job=1)
    await login(client, admin(daemon))
    async with client.get(f"/ui/builds/{build.id}") as reply:
        html = await reply.text()
    assert "<code>compiler=clang</code>" in html
    assert f'<a href="/ui/builds/{build.id}?job=1">its log</a>' in html
    async with client.get(f"/ui/builds/{build.id}?job=1") as reply:
        html = await reply.text()
    assert "built with clang" in html and "built with gcc" not in html
    assert f"/ui/builds/{build.id}/events?job=1&amp;offset=17" in html
    events = await read_events(client, f"/ui/builds/{build.id}/events?job=0&offset=0", 1)
    assert json.loads(events[0][2]) == "built with gcc\n"
    async with client.get(f"/ui/builds/{build.id}/log.txt") as reply:
        whole = await reply.text()
    assert "built with gcc\n" in whole and "built with clang\n" in whole
    assert "== job 1 (compiler=clang) ==" in whole
    async with client.get(f"/ui/builds/{build.id}/log.txt?job=1") as reply:
        assert await reply.text() == "built with clang\n"
    async with client.get(f"/ui/builds/{build.id}?job=2") as reply:
        assert reply.status == 400
