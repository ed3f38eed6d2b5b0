"""Junk sent to every route of the app (ick/api/app.py) on the real services: never a 500,
and every error is JSON."""

from __future__ import annotations

import json
import random

from tests.api.apiclient import Api, Reply


def strict_json(constant: str) -> None:
    raise AssertionError(f"the daemon answered with {constant}, which is not JSON")


def junk_bodies() -> list[bytes]:
    rng = random.Random(4250)
    deep = 100_000
    bodies = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(12)]
    bodies += [
        b"", b"null", b"true", b"0", b"-1", b'""', b"[]", b"{}", b"[[]]",
        b"1e999", b"-1e999", b"NaN", b"Infinity", b"9" * 5000, b"1" * 4000,
        b"[" * deep + b"]" * deep, b'{"a":' * deep + b"1" + b"}" * deep,
        b'"\\ud800"', b'{"name": "\\ud800", "scopes": ["read"]}',
        b'{"parameters": {"x": 1e999}}', b'{"parameters": {"x": ' + b"9" * 5000 + b"}}",
        b'{"parameters": ' + b"[" * 900 + b"]" * 900 + b"}",
        b'{"parameters": {"\\u0000": "\\u0000"}}', b'{"parameters": null}',
        b'{"project": 1}', b'{"project": "\xc3\xa9"}', b'{"pipeline": null, "actions": {}}',
        b'{"pipelines": [null, 1, {}]}', b'{"notify": [{"email": 1}]}',
        b'{"actions": [{"shell": 1}, "x", null, {"where": "moon"}]}',
        b'{"exit_code": "x"}', b'{"exit_code": 1e999}', b'{"exit_code": [1]}',
        b'{"exit_code": 1, "duration": "slow"}', b'{"duration": {}}', b'{"details": 1}',
        b'{"exit_code": 99999999999999999999999999}', b'{"name": 5}',
        b'{"name": "' + b"x" * 500 + b'"}', b'{"timed_out": "yes", "message": 7}',
        "\u2603".encode("utf-16"), b"\xef\xbb\xbf{}",
    ]
    return bodies


JUNK_TARGETS = [
    ("PUT", "/artifacts/junk"),
    ("PUT", "/projects/hello"),
    ("PUT", "/projects/j\u00fcnk"),
    ("PUT", "/pipelines/greet"),
    ("PUT", "/pipelines/new/one"),
    ("POST", "/projects/hello/+trigger"),
    ("POST", "/tokens"),
    ("POST", "/work"),
    ("POST", "/work/1/0/done?worker=nobody"),
    ("POST", "/work/1/0/output?worker=nobody"),
    ("POST", "/builds/1/+cancel"),
    ("POST", "/builds/1/+rebuild"),
    ("POST", "/prune"),
]


JUNK_PATHS = [
    "/projects/\u2603", "/projects/%E2%98%83", "/projects/%ff%fe", "/projects/%00",
    "/projects/" + "a" * 5000, "/projects/..", "/projects/.", "/projects/a/./b",
    "/projects//", "/projects/a%2F", "/pipelines/%2F%2F", "/builds/%F0%9F%92%A9",
    "/builds/\u00b2", "/builds/\u0663", "/builds/99999999999999999", "/builds/0",
    "/builds/00000000000000000001", "/builds/1/log?offset=\u00b2",
    "/builds/1/log?offset=99999999999999999999999999999",
    "/builds?limit=\u00b2", "/builds?limit=\u0663", "/builds?limit=1e3",
    "/builds?project=%00", "/builds?project=" + "\u2603" * 100,
    "/work?worker=nobody&timeout=nan", "/work?worker=nobody&timeout=-inf",
    "/work?worker=nobody&timeout=1e999", "/work/\u00b2/0/cancel?worker=x",
    "/work/99999999999999999999999/0/cancel?worker=x", "/work?worker=",
    "/tokens/%00", "/tokens/" + "x" * 3000, "/tokens/%ED%A0%80", "/projects/%ED%A0%80",
    "/builds?project=%ED%A0%80", "/builds?project=%ff",
    "/projects/hello/+trigger/+trigger", "/projects/+trigger",
    "/artifacts/%00", "/artifacts/..%2Fx", "/artifacts/\u2603", "/artifacts/" + "a" * 3000,
]


async def test_junk_never_makes_a_500_and_errors_are_always_json(api: Api) -> None:
    await api.setup_hello()
    seen: set[int] = set()

    def check(reply: Reply, what: str) -> None:
        seen.add(reply.status)
        assert reply.status < 500, f"{what}: {reply.status} {reply.text[:300]}"
        if reply.status >= 400:
            assert reply.error, what
        elif reply.status != 204 and not reply.text.startswith("<!doctype html>"):
            # (the client makes "/projects/.." into "/", which leads to the web UI's login page)
            json.loads(reply.text, parse_constant=strict_json)  # no NaN or Infinity

    json_type = {"Content-Type": "application/json"}
    for method, path in JUNK_TARGETS:
        for index, body in enumerate(junk_bodies()):
            reply = await api.call(method, path, data=body, headers=json_type)
            check(reply, f"{method} {path} body {index} {body[:60]!r}")
        for content_type in ("text/plain", "application/json; charset=no-such-charset",
                             "application/json; charset=utf-16", "multipart/form-data"):
            reply = await api.call(method, path, data=b'{"a": 1}',
                                   headers={"Content-Type": content_type})
            check(reply, f"{method} {path} as {content_type}")
    for path in JUNK_PATHS:
        for method in ("GET", "PUT", "POST", "DELETE"):
            reply = await api.call(method, path, json={"parameters": {}})
            check(reply, f"{method} {path[:80]}")
    for token in ("ick_\u2603_\u2603", "ick_" + "a" * 5000 + "_b", "ick_\xff_\xff", "Bearer " * 50):
        reply = await api.call("GET", "/projects", token=token)
        check(reply, f"token {token[:40]!r}")
        assert reply.status == 401
    # the loop reached the handlers, not just the auth check
    assert {200, 201, 400, 404, 409} <= seen
    # and the daemon still works
    assert (await api.ok("GET", "/projects/hello"))["project"] == "hello"
