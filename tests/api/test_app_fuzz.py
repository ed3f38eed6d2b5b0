"""Property-based fuzzing of every route of the real app: no 500, no exception logged, and the
daemon still answers. The routes come from the app's own router, so a new route is fuzzed
without editing this file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ick.api.app import make_app
from ick.daemon import Daemon
from tests.services import in_process

EXAMPLES = 40  # per route, fixed, with derandomize: the same cases every run
REQUEST_TIMEOUT = 1.0  # a long poll (log follow, /work) that waits is not a failure
SCOPES = ("read", "trigger", "write", "worker", "admin")
PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")

# Values for the parts of a path and of a query string: ordinary, long, numeric extremes,
# climbing out, encoded slashes, NUL, odd Unicode.
NASTY = [
    "p", "hello", "a/b", "..", "../..", "%2F", "a%2Fb", "%00", "\x00", "+trigger", "+secrets",
    "x" * 101, "x" * 300, "x" * 5000, "/".join(["y" * 65] * 2), "0", "1", "-1", "00000001",
    "9" * 20, "9" * 5000, str(2**62), str(2**63), str(2**64), "1e999", "nan", "-inf", "\u00b2",
    "\u0663", "\u2603", "\ud800", "\U0001f600", "\u202e", "a b", "a\nb", "a\rb", "%ff", "%ED%A0%80",
    "s1", "TOKEN", "local0-deadbeef", "true", "",
]
NUMBERS = ["0", "1", "2", "-1", "01", "9" * 19, "9" * 20, "9" * 5000, str(2**53), str(2**62),
           str(2**63 - 1), str(2**63), str(2**64), "1.5", "1e3", " 1", "\u00b2", "0x10"]
NUMERIC_PARAMS = {"id", "build", "seq"}
# What each path parameter names when it names something that exists (see `seed`): a case
# keeps most parameters ordinary, so the odd one reaches the code that reads it.
ORDINARY = {"name": "p", "secret": "s1", "id": "1", "build": "1", "seq": "0", "tail": "key.asc"}
QUERY_KEYS = ["offset", "follow", "limit", "project", "worker", "timeout", "name", "x"]


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(NASTY),
        st.text(max_size=30),
    )
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(
            ["project", "pipeline", "pipelines", "parameters", "actions", "shell", "where",
             "name", "scopes", "exit_code", "duration", "message", "notify", "concurrent",
             "timeout", "details", "timed_out"]), st.text(max_size=10)), inner, max_size=5),
    ), max_leaves=12)


def drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


def bodies() -> st.SearchStrategy[bytes | None]:
    """Request bodies: none, JSON of any shape, documents that nearly make sense, raw junk."""
    named = st.one_of(st.none(), st.sampled_from(NASTY))  # None: the name comes from the path
    plausible = st.one_of(
        st.builds(lambda n, p: drop_none({"project": n, "pipelines": p, "parameters": {}}),
                  named, st.lists(st.sampled_from(["p", *NASTY]), max_size=2)),
        st.builds(lambda n, a: drop_none({"pipeline": n, "actions": a}), named,
                  st.lists(st.fixed_dictionaries({"shell": st.sampled_from(["true", "\x00"]),
                                                  "where": st.sampled_from(["host", "moon"])}),
                           max_size=2)),
        st.builds(lambda n, s: {"name": n, "scopes": s}, st.sampled_from(NASTY),
                  st.lists(st.sampled_from([*SCOPES, "root"]), max_size=3)),
        st.builds(lambda c, d: {"exit_code": c, "duration": d},
                  st.one_of(st.integers(), st.none(), st.sampled_from(NASTY)),
                  st.one_of(st.floats(), st.integers())),
        st.builds(lambda p: {"parameters": p},
                  st.dictionaries(st.sampled_from(NASTY), json_values(), max_size=3)),
    )
    deep = st.integers(min_value=1, max_value=100_000).map(lambda n: b"[" * n + b"]" * n)
    return st.one_of(
        st.none(),
        json_values().map(lambda v: json.dumps(v).encode()),
        plausible.map(lambda v: json.dumps(v).encode()),
        deep,
        st.sampled_from([b"{", b"\xff\xfe", b"NaN", b"1e999", b"9" * 5000, b"\x00",
                         b'{"a": 1}' * 1000, b"x" * 200_000]),
        st.binary(max_size=64),
    )


@dataclass
class Case:
    method: str
    path: str
    query: str
    token: str | None
    body: bytes | None
    content_type: str | None


@dataclass
class Fuzzed:
    client: TestClient[Any, Any]
    tokens: dict[str, str]
    routes: list[tuple[str, str]]
    errors: list[str] = field(default_factory=list)  # ERROR records the daemon logged
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    cases: int = 0


class Recorder(logging.Handler):
    """Keeps every record at ERROR or above, and every one that carries an exception."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            error = record.exc_info[1] if record.exc_info else None
            raised = f" ({type(error).__name__}: {str(error)[:80]})" if error else ""
            self.into.append(f"{record.name}: {record.getMessage()[:200]}{raised}")


def app_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path template) of every route the app has: the fuzzer's targets."""
    found = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        template = info.get("formatter") or info.get("path")
        if template is None and "prefix" in info:  # a static folder: fuzz what is under it
            template = str(info["prefix"]).rstrip("/") + "/{tail}"
        if template:
            found.add((route.method, str(template)))
    return sorted(found)


@contextlib.asynccontextmanager
async def real_app(tmp_path: Path) -> AsyncIterator[tuple[web.Application, Daemon]]:
    """The app as `ick serve` makes it, over every service of the daemon, no local workers."""
    async with in_process(tmp_path / "state") as daemon:
        yield make_app(daemon), daemon


@contextlib.contextmanager
def recording(errors: list[str]) -> Iterator[None]:
    handler = Recorder(errors)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def quote(value: str, safe: str) -> str:
    return urllib.parse.quote(value, safe=safe, errors="surrogatepass")


def fill(template: str, values: list[str]) -> str:
    """The template with each {param} replaced by one of `values`, percent-encoded as a client
    would, but a '%' stays: '%2F' and '%00' arrive as escapes."""
    parts = iter(values)

    def one(match: re.Match[str]) -> str:
        return quote(next(parts, "p"), "%/+")

    return PARAM.sub(one, template)


async def send(fz: Fuzzed, case: Case) -> int | None:
    """One request; its status, or None when it was a long poll still waiting."""
    headers = {}
    if case.token is not None:
        headers["Authorization"] = f"Bearer {case.token}"
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    url = case.path + (f"?{case.query}" if case.query else "")
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            async with fz.client.request(case.method, yarl_url(url), headers=headers,
                                         data=case.body) as resp:
                await resp.read()
                return resp.status
    except TimeoutError:
        return None
    except aiohttp.ClientPayloadError:
        return 599  # the answer was cut off: the handler failed after it began to answer


def yarl_url(url: str) -> Any:
    import yarl

    return yarl.URL(url, encoded=True)


def cases(fz: Fuzzed, method: str, template: str) -> st.SearchStrategy[Case]:
    # Mostly the admin token, so most requests get past the scope check to the handler.
    token_names = st.one_of(st.just("admin"), st.sampled_from([*SCOPES, "none", "bad"]))

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        values = []
        for param in PARAM.findall(template):
            odd = (st.sampled_from(NUMBERS) if param in NUMERIC_PARAMS
                   else st.one_of(st.sampled_from(NASTY), st.text(max_size=20)))
            values.append(draw(st.one_of(st.just(ORDINARY.get(param, "p")), odd)))
        pairs = draw(st.lists(st.tuples(st.sampled_from(QUERY_KEYS),
                                        st.one_of(st.sampled_from(NUMBERS),
                                                  st.sampled_from(NASTY), st.text(max_size=10))),
                              max_size=3))
        query = "&".join(f"{k}={quote(v, '%')}" for k, v in pairs)
        name = draw(token_names)
        token = {"none": None, "bad": "ick_nope_nope"}.get(name, fz.tokens.get(name))
        content_type = draw(st.sampled_from([None, "application/json", "text/plain",
                                             "application/json; charset=utf-16",
                                             "application/json; charset=nope"]))
        return Case(method, fill(template, values), query, token, draw(bodies()), content_type)

    return build()


async def make_tokens(client: TestClient[Any, Any], admin: str) -> dict[str, str]:
    tokens = {"admin": admin}
    for scope in SCOPES[:-1]:
        async with client.post("/tokens", json={"name": scope, "scopes": [scope]},
                               headers={"Authorization": f"Bearer {admin}"}) as resp:
            assert resp.status == 201
            tokens[scope] = (await resp.json())["token"]
    return tokens


async def seed(client: TestClient[Any, Any], admin: str, svc: Daemon) -> None:
    """Something for the routes to find: a pipeline, a project, a build with a log, a secret,
    an artifact."""
    auth = {"Authorization": f"Bearer {admin}"}
    for method, path, doc in [
        ("PUT", "/pipelines/p", {"pipeline": "p", "actions": [{"shell": "true", "where": "host"}]}),
        ("PUT", "/projects/p", {"project": "p", "pipelines": ["p"]}),
        ("PUT", "/projects/hello", {"project": "hello", "pipelines": ["p"]}),
        ("POST", "/projects/p/+trigger", {}),
    ]:
        async with client.request(method, path, json=doc, headers=auth) as resp:
            assert resp.status in (200, 201), await resp.text()
    async with client.put("/projects/p/+secrets/s1", data=b"secret value",
                          headers=auth) as resp:
        assert resp.status in (200, 201), await resp.text()
    async with client.put("/artifacts/a", data=b"an artifact", headers=auth) as resp:
        assert resp.status in (200, 201), await resp.text()
    svc.logs.append(1, b"a line of build 1's log\n")  # no local workers: nothing else writes


def test_no_route_answers_500_or_logs_an_exception(tmp_path: Path) -> None:
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
            tokens = await make_tokens(client, admin)
            await seed(client, admin, svc)
            fz = Fuzzed(client, tokens, app_routes(app))
            assert len(fz.routes) >= 20, fz.routes
            await asyncio.to_thread(_run_examples, fz, loop)
            print(f"fuzzed {fz.cases} requests over {len(fz.routes)} routes; statuses "
                  f"{dict(sorted(fz.statuses.items()))}")
            for failure in fz.failures:
                print("fuzz found:", failure)
            assert not fz.failures, f"{len(fz.failures)} failures:\n" + "\n".join(fz.failures[:20])
            async with client.get("/version") as resp:
                assert resp.status == 200
        finally:
            await client.close()


def _run_examples(fz: Fuzzed, loop: asyncio.AbstractEventLoop) -> None:
    """Hypothesis drives from this thread; each request runs on the app's loop."""
    for method, template in fz.routes:
        _run_route(fz, loop, method, template)


def _run_route(fz: Fuzzed, loop: asyncio.AbstractEventLoop, method: str, template: str) -> None:
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(cases(fz, method, template))
    def one(case: Case) -> None:
        check(fz, loop, case)

    for case in sweep(fz, method, template):  # run first, before the generated cases
        one = example(case)(one)
    one()


def sweep(fz: Fuzzed, method: str, template: str) -> Iterator[Case]:
    """Each odd value in each place of the route, the rest ordinary: what random draws of
    a few dozen cases would miss."""
    params = PARAM.findall(template)
    # A body that PUT /projects, PUT a secret and POST +trigger would each take.
    body = b'{"pipelines": ["p"]}' if method in ("PUT", "POST") else None
    for i, param in enumerate(params):
        for odd in NUMBERS if param in NUMERIC_PARAMS else [*NASTY, *NUMBERS[-6:]]:
            values = [odd if j == i else ORDINARY.get(p, "p") for j, p in enumerate(params)]
            yield Case(method, fill(template, values), "", fz.tokens["admin"], body, None)
    if method == "GET":
        ordinary = fill(template, [ORDINARY.get(p, "p") for p in params])
        for key in ("offset", "limit", "timeout"):
            for odd in NUMBERS:
                yield Case(method, ordinary, f"{key}={quote(odd, '%')}&worker=w",
                           fz.tokens["admin"], None, None)


def check(fz: Fuzzed, loop: asyncio.AbstractEventLoop, case: Case) -> None:
    """Send one case; note a 5xx, a record logged at ERROR, or a daemon that stopped answering."""
    errors: list[str] = []
    with recording(errors):
        status = asyncio.run_coroutine_threadsafe(send(fz, case), loop).result(30)
        alive = asyncio.run_coroutine_threadsafe(version(fz), loop).result(30)
    fz.cases += 1
    if status is not None:
        fz.statuses[status] = fz.statuses.get(status, 0) + 1
    what = f"{case.method} {case.path[:120]}?{case.query[:80]} body {(case.body or b'')[:60]!r}"
    if status is not None and status >= 500:
        fz.failures.append(f"{status}: {what}")
    if errors:
        fz.failures.append(f"logged {errors[0]!r}: {what}")
    if alive != 200:
        fz.failures.append(f"the daemon stopped answering after {what}")


async def version(fz: Fuzzed) -> int:
    try:
        async with asyncio.timeout(5), fz.client.get("/version") as resp:
            return resp.status
    except (TimeoutError, aiohttp.ClientError):
        return 0


@pytest.fixture(autouse=True)
def _quiet_hypothesis() -> None:
    logging.getLogger("hypothesis").setLevel(logging.WARNING)
