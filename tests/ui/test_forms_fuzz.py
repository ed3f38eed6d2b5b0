"""Fuzzing the UI's forms (every POST under /ui/) with multipart bodies with and without a
boundary, bad boundaries, odd charsets and huge field names: a body that cannot be read is a
400 with a one-line error page, never a 500 or a logged exception (issue 22, finding 8)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.api.test_app_fuzz import real_app, recording, seed

EXAMPLES = 60  # per route, fixed, with derandomize: the same cases every run
# Log out last: a case may well log the session out.
ROUTES = ["/ui/login", "/ui/projects/p/+build", "/ui/builds/1/+cancel", "/ui/builds/1/+rebuild",
          "/ui/logout"]
CHARSETS = ["utf-8", "x-unknown", "utf-7", "utf-16", "latin-1", "", "\u2603", "utf-8 x"]
BOUNDARIES = ["b", "", "x" * 80, "x" * 5000, '"quoted"', "a b", "-", "\u00e9"]


@dataclass(frozen=True)
class Form:
    content_type: str
    body: bytes


def multipart(boundary: str, name: str, value: bytes, charset: str | None = None,
              close: bool = True) -> bytes:
    header = f'Content-Disposition: form-data; name="{name}"'.encode(errors="surrogateescape")
    if charset is not None:
        header += f"\r\nContent-Type: text/plain; charset={charset}".encode(errors="replace")
    end = f"\r\n--{boundary}--\r\n".encode(errors="replace") if close else b""
    return f"--{boundary}\r\n".encode(errors="replace") + header + b"\r\n\r\n" + value + end


def bad_forms(csrf: str) -> Iterator[Form]:
    """The bodies the attacker sent, and their kin: each is a 400."""
    part = multipart("b", "_csrf", csrf.encode())
    yield Form("multipart/form-data", part)  # no boundary
    yield Form("multipart/form-data; boundary=", part)
    yield Form("multipart/form-data; boundary=b", b"no part at all")
    yield Form("multipart/form-data; boundary=b", multipart("b", "_csrf", b"x", close=False))
    yield Form("multipart/form-data; boundary=zzz", part)
    yield Form("application/x-www-form-urlencoded; charset=x-unknown", b"_csrf=" + csrf.encode())
    yield Form("application/x-www-form-urlencoded; charset=utf-7", b"_csrf=+AGEA-")
    yield Form("application/x-www-form-urlencoded; charset=utf-16", b"\xff\xfe\x00")
    yield Form("multipart/form-data; boundary=b", multipart("b", "_csrf", b"x", "x-unknown"))
    yield Form("multipart/form-data; boundary=b", multipart("b", "_csrf", b"\xff", "utf-7"))


@st.composite
def forms(draw: st.DrawFn, csrf: str) -> Form:
    boundary = draw(st.one_of(st.sampled_from(BOUNDARIES), st.text(max_size=12)))
    declared = draw(st.sampled_from([boundary, "", None, "other"]))
    kind = draw(st.sampled_from(["multipart/form-data", "application/x-www-form-urlencoded",
                                 "multipart/mixed", "text/plain"]))
    content_type = kind
    if declared is not None:
        content_type += f"; boundary={declared}"
    charset = draw(st.one_of(st.none(), st.sampled_from(CHARSETS)))
    if charset is not None and draw(st.booleans()):
        content_type += f"; charset={charset}"
    name = draw(st.one_of(st.sampled_from(["_csrf", "token", "next", "x" * 70_000, ""]),
                          st.text(max_size=8)))
    value = draw(st.one_of(st.just(csrf.encode()), st.binary(max_size=40)))
    if kind.startswith("multipart"):
        body = multipart(boundary, name, value, charset, close=draw(st.booleans()))
    else:
        body = name.encode(errors="surrogateescape") + b"=" + value
    # A client sends no control character in a header (aiohttp's refuses to).
    printable = "".join(c for c in content_type if " " <= c != "\x7f")
    return Form(printable.encode(errors="replace").decode("latin-1"), body)


@dataclass
class Fuzzed:
    client: TestClient[Any, Any]
    csrf: str
    failures: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


async def post(fz: Fuzzed, path: str, form: Form) -> tuple[int, str]:
    headers = {"Content-Type": form.content_type, "Origin": str(fz.client.make_url(""))}
    async with fz.client.post(path, data=form.body, headers=headers,
                              allow_redirects=False) as resp:
        return resp.status, await resp.text(errors="replace")


def check(fz: Fuzzed, loop: asyncio.AbstractEventLoop, path: str, form: Form,
          bad: bool = False) -> None:
    errors: list[str] = []
    with recording(errors):
        status, text = asyncio.run_coroutine_threadsafe(post(fz, path, form), loop).result(30)
    fz.statuses[status] = fz.statuses.get(status, 0) + 1
    what = f"POST {path} {form.content_type[:80]!r} {form.body[:60]!r}"
    if status >= 500:
        fz.failures.append(f"{status}: {what}")
    if errors:
        fz.failures.append(f"logged {errors[0]!r}: {what}")
    if bad:
        message = re.search(r'role="alert">([^<]*)<', text)
        if status != 400 or message is None or "\n" in message.group(1):
            fz.failures.append(f"{status}, not a 400 with a one-line error: {what}")


def test_no_ui_form_answers_500_to_an_odd_body(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_fuzz(tmp_path, loop))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _fuzz(tmp_path: Path, loop: asyncio.AbstractEventLoop) -> None:
    async with real_app(tmp_path) as (app, svc):
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        try:
            admin = (svc.settings.state_dir / "admin.token").read_text().strip()
            await seed(client, admin, svc)
            csrf = await log_in(client, admin)
            fz = Fuzzed(client, csrf)
            await asyncio.to_thread(_run, fz, loop)
            print(f"statuses {dict(sorted(fz.statuses.items()))}")
            assert not fz.failures, f"{len(fz.failures)} failures:\n" + "\n".join(fz.failures[:20])
        finally:
            await client.close()


async def log_in(client: TestClient[Any, Any], admin: str) -> str:
    """A session, and the CSRF token its pages carry."""
    async with client.get("/ui/login") as reply:
        csrf = csrf_in(await reply.text())
    async with client.post("/ui/login", data={"_csrf": csrf, "token": admin, "next": "/ui/"},
                           allow_redirects=False) as reply:
        assert reply.status == 303, await reply.text()
    async with client.get("/ui/projects/p") as reply:
        return csrf_in(await reply.text())


def csrf_in(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _run(fz: Fuzzed, loop: asyncio.AbstractEventLoop) -> None:
    for path in ROUTES:
        for form in bad_forms(fz.csrf):
            check(fz, loop, path, form, bad=True)
        _run_route(fz, loop, path)


def _run_route(fz: Fuzzed, loop: asyncio.AbstractEventLoop, path: str) -> None:
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(forms(fz.csrf))
    def one(form: Form) -> None:
        check(fz, loop, path, form)

    one = example(Form("multipart/form-data; boundary=b",
                       multipart("b", "x" * 70_000, b"v")))(one)
    one()
