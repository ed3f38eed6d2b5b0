"""Input errors as JSON 4xx with a message (ick/api/helpers.py) on the real services: bad
bodies, names, ids and query arguments, missing things, wrong methods."""

from __future__ import annotations

import pytest

from tests.api.apiclient import Api

WORKER_NAME = "name: expected a string of 1 to 100 printable characters"


OUTCOME = "outcome: expected a whole number or null as exit_code and seconds as duration"


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("PUT", "/projects/p", b"{not json", "request body is not valid JSON: "),
        ("PUT", "/pipelines/pl", b"\xff\xfe\x00", "request body is not valid JSON: "),
        ("POST", "/tokens", b'{"name": "x",', "request body is not valid JSON: "),
        ("POST", "/projects/hello/+trigger", b"[1", "request body is not valid JSON: "),
        ("PUT", "/projects/p", b"[1, 2]", "expected a JSON object describing project 'p'"),
        ("PUT", "/projects/p", b"", "expected a JSON object describing project 'p'"),
        ("PUT", "/pipelines/pl", b'"pl"', "expected a JSON object describing pipeline 'pl'"),
        ("PUT", "/projects/p", b'{"project": "q"}',
         "project name 'q' in the body differs from 'p' in the path"),
        ("PUT", "/projects/p", b'{"pipelines": "greet"}',
         "project 'p': 'pipelines' must be a list of names, not 'greet'"),
        ("POST", "/projects/hello/+trigger", b"[]",
         "expected a JSON object with an optional 'parameters' object"),
        ("POST", "/projects/hello/+trigger", b'{"params": {}}',
         "expected a JSON object with an optional 'parameters' object"),
        ("POST", "/projects/hello/+trigger", b'{"parameters": [1]}',
         "parameters: expected a JSON object"),
        ("POST", "/work", b'{"name": ""}', WORKER_NAME),
        ("POST", "/work", b'{"name": "a\\nb"}', WORKER_NAME),
        ("POST", "/work", b'{"name": "\\ud800"}', WORKER_NAME),
        ("POST", "/work", b'{"name": 7}', WORKER_NAME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": "x"}', OUTCOME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": [1]}', OUTCOME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": 1000000000000000000000}', OUTCOME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": 0, "duration": "inf"}', OUTCOME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": 0, "duration": -1}', OUTCOME),
        ("POST", "/work/1/0/done?worker=w", b'{"exit_code": 0, "duration": "slow"}', OUTCOME),
        ("PUT", "/projects/p", b"[" * 100_000, "request body is not valid JSON: nested too deeply"),
        ("POST", "/projects/hello/+trigger", b'{"parameters": {"x": 1e999}}',
         "request body is not valid JSON: 1e999 is not a finite number"),
        ("POST", "/projects/hello/+trigger", b'{"parameters": {"x": NaN}}',
         "request body is not valid JSON: NaN is not a finite number"),
        ("POST", "/tokens", b"-Infinity",
         "request body is not valid JSON: -Infinity is not a finite number"),
        ("PUT", "/projects/p", b'{"parameters": {"n": ' + b"9" * 5000 + b"}}",
         "request body is not valid JSON: a number has too many digits"),
        ("POST", "/work/1/0/done?worker=w", b"[]",
         "expected a JSON object with the action's outcome"),
        ("POST", "/work/x/0/done?worker=w", b"{}", "build and seq must be numbers"),
        ("POST", "/work/1/0/done", b"{}", "missing ?worker=ID (register at POST /work first)"),
        ("GET", "/work?worker=w&timeout=soon", b"", "timeout: expected a number of seconds"),
        ("GET", "/work?worker=w&timeout=nan", b"", "timeout: expected a number of seconds"),
    ],
)
async def test_bad_bodies_get_400_with_a_message(
    api: Api, method: str, path: str, body: bytes, message: str
) -> None:
    await api.setup_hello()
    reply = await api.call(method, path, data=body,
                           headers={"Content-Type": "application/json"})
    assert reply.status == 400, reply.text
    if message.endswith(": "):
        assert reply.error.startswith(message), reply.error
    else:
        assert reply.error == message


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/projects/bad%20name", "bad name 'bad name': use letters, digits, '.', '_', '-' and '/'"),
        ("/projects/caf%C3%A9", "bad name 'café': use letters, digits, '.', '_', '-' and '/'"),
        ("/projects/a%2F..%2Fb", "bad name 'a/../b': use letters, digits, '.', '_', '-' and '/'"),
        ("/projects/a%2F%2Fb", "bad name 'a//b': use letters, digits, '.', '_', '-' and '/'"),
        ("/pipelines/a%3Bb", "bad name 'a;b': use letters, digits, '.', '_', '-' and '/'"),
        ("/projects/a%00/+trigger",
         "bad name 'a\\x00': use letters, digits, '.', '_', '-' and '/'"),
        ("/builds/abc", "bad build id 'abc': expected a number"),
        ("/builds/-1", "bad build id '-1': expected a number"),
        ("/builds/1.5", "bad build id '1.5': expected a number"),
        ("/builds/1234567890123456789", "bad build id '1234567890123456789': expected a number"),
        ("/builds/x/log", "bad build id 'x': expected a number"),
        ("/builds?limit=x", "limit: expected a whole number from 1 to 10000, got 'x'"),
        ("/builds?limit=0", "limit: expected a whole number from 1 to 10000, got '0'"),
        ("/builds?limit=10001", "limit: expected a whole number from 1 to 10000, got '10001'"),
        ("/builds?limit=-5", "limit: expected a whole number from 1 to 10000, got '-5'"),
    ],
)
async def test_bad_names_ids_and_query_args_get_400(api: Api, path: str, message: str) -> None:
    method = "POST" if path.endswith("+trigger") else "GET"
    reply = await api.call(method, path)
    assert (reply.status, reply.error) == (400, message)


@pytest.mark.parametrize("offset", ["-1", "x", "1e3", str(2**62 + 1)])
async def test_a_bad_log_offset_gets_400(api: Api, offset: str) -> None:
    await api.setup_hello()
    build = await api.ok("POST", "/projects/hello/+trigger", 201)
    reply = await api.call("GET", f"/builds/{build['id']}/log?offset={offset}")
    assert reply.status == 400
    assert reply.error == (
        f"offset: expected a whole number from 0 to {2**62}, got {offset!r}")


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/projects/nope", "no project 'nope'"),
        ("DELETE", "/projects/nope", "no project 'nope'"),
        ("POST", "/projects/nope/+trigger", "no project 'nope'"),
        ("GET", "/projects/no%2Fpe", "no project 'no/pe'"),
        ("GET", "/pipelines/nope", "no pipeline 'nope'"),
        ("DELETE", "/pipelines/nope", "no pipeline 'nope'"),
        ("GET", "/builds/999", "no build 999"),
        ("GET", "/builds/999/log", "no build 999"),
        ("POST", "/builds/999/+cancel", "no build 999"),
        ("POST", "/builds/999/+rebuild", "no build 999"),
        ("DELETE", "/tokens/nope", "no token with id 'nope'"),
        ("GET", "/artifacts/nope", "no artifact 'nope'"),
        ("DELETE", "/artifacts/nope", "no artifact 'nope'"),
        ("GET", "/work?worker=nobody", "no worker 'nobody': register again"),
        ("GET", "/no/such/route", "not found"),
    ],
)
async def test_missing_things_get_404(api: Api, method: str, path: str, message: str) -> None:
    reply = await api.call(method, path)
    assert (reply.status, reply.error) == (404, message)


async def test_a_wrong_method_gets_a_json_405(api: Api) -> None:
    reply = await api.call("PATCH", "/projects")
    assert (reply.status, reply.error) == (405, "method not allowed")
