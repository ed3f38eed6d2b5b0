"""A remote worker's outputs at PUT /work/{build}/{seq}/outputs/{path}: only the worker that
runs the action, only a path its `outputs:` names, with a digest that must match (else 400 and
nothing kept), and within the build's `max_outputs_mb`."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ick.api.app import make_app
from ick.daemon import Daemon
from tests.api.apiclient import WAIT, AiohttpClient, Api
from tests.services import in_process

ACTIONS = [{"shell": "true", "where": "host", "outputs": ["dist/*.deb", "reports"]},
           {"shell": "true", "where": "host"}]


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
async def small(tmp_path: Path) -> AsyncIterator[Daemon]:
    async with in_process(tmp_path / "state", max_outputs_mb=1) as daemon:
        yield daemon


@pytest.fixture
async def api(small: Daemon, aiohttp_client: AiohttpClient) -> Api:
    client = await aiohttp_client(make_app(small))
    admin = (small.settings.state_dir / "admin.token").read_text().strip()
    return Api(client, small, admin)


async def running(api: Api, token: str) -> tuple[int, str]:
    """Build 1 of `outs`, its first action taken by a worker registered with `token`."""
    await api.ok("PUT", "/pipelines/p", 201, json={"pipeline": "p", "actions": ACTIONS})
    await api.ok("PUT", "/projects/outs", 201, json={"project": "outs", "pipelines": ["p"]})
    worker = (await api.ok("POST", "/work", 201, token=token, json={"name": "w"}))["worker"]
    bid = (await api.ok("POST", "/projects/outs/+trigger", 201))["id"]
    item = await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}", token=token)
    assert (item["build_id"], item["seq"]) == (bid, 0)
    return bid, worker


async def test_the_running_worker_uploads_outputs_with_their_digest(api: Api) -> None:
    token = await api.token("worker", name="w")
    bid, worker = await running(api, token)
    base = f"/work/{bid}/0/outputs"
    data = b"deb" * 1000
    reply = await api.call("PUT", f"{base}/dist/a.deb?worker={worker}", token=token, data=data,
                           headers={"Ick-Digest": sha(data)})
    assert (reply.status, reply.body) == (201, {
        "path": "dist/a.deb", "size": len(data), "digest": sha(data), "job": 0})
    await api.ok("PUT", f"{base}/reports/sub/t.xml?worker={worker}", 201, token=token,
                 data=b"<t/>", headers={"Ick-Digest": sha(b"<t/>")})

    wrong = await api.call("PUT", f"{base}/dist/b.deb?worker={worker}", token=token,
                           data=b"other", headers={"Ick-Digest": sha(b"not this")})
    assert wrong.status == 400
    assert wrong.error == (f"output dist/b.deb not stored: its digest is {sha(b'other')}, not "
                           f"{sha(b'not this')} as the upload said")
    missing = await api.call("PUT", f"{base}/dist/b.deb?worker={worker}", token=token,
                             data=b"other")
    assert (missing.status, missing.error) == (
        400, "a worker's upload must carry its Ick-Digest header")
    unnamed = await api.call("PUT", f"{base}/notes.txt?worker={worker}", token=token,
                             data=b"x", headers={"Ick-Digest": sha(b"x")})
    assert (unnamed.status, unnamed.error) == (
        403, f"action 0 of build {bid} does not name output 'notes.txt'")
    dotted = await api.call("PUT", f"{base}/dist/%2E%2E%2F..%2Fx.deb?worker={worker}",
                            token=token, data=b"x", headers={"Ick-Digest": sha(b"x")})
    assert dotted.status == 400

    assert [(o["path"], o["size"]) for o in (await api.ok("GET", f"/builds/{bid}"))[
        "outputs"]] == [("dist/a.deb", len(data)), ("reports/sub/t.xml", 4)]


async def test_another_token_or_worker_or_action_is_refused(api: Api) -> None:
    token = await api.token("worker", name="w")
    bid, worker = await running(api, token)
    other_token = await api.token("worker", name="other")
    other = (await api.ok("POST", "/work", 201, token=other_token, json={"name": "o"}))["worker"]
    headers = {"Ick-Digest": sha(b"x")}
    path = f"/work/{bid}/0/outputs/dist/a.deb"
    # the worker's id with another worker token: 403, whoever registered it
    stolen = await api.call("PUT", f"{path}?worker={worker}", token=other_token, data=b"x",
                            headers=headers)
    assert stolen.status == 403
    idle = await api.call("PUT", f"{path}?worker={other}", token=other_token, data=b"x",
                          headers=headers)
    assert (idle.status, idle.error) == (
        403, f"worker {other!r} is not running action 0 of build {bid}")
    later = await api.call("PUT", f"/work/{bid}/1/outputs/dist/a.deb?worker={worker}",
                           token=token, data=b"x", headers=headers)
    assert later.status == 403
    admin = await api.call("PUT", f"{path}?worker={worker}", data=b"x", headers=headers)
    assert admin.status == 403  # the admin token did not register it
    assert (await api.ok("GET", f"/builds/{bid}"))["outputs"] == []


async def test_the_controller_holds_the_cap(api: Api) -> None:
    token = await api.token("worker", name="w")
    bid, worker = await running(api, token)
    base = f"/work/{bid}/0/outputs"
    first = b"a" * 700_000
    await api.ok("PUT", f"{base}/dist/a.deb?worker={worker}", 201, token=token, data=first,
                 headers={"Ick-Digest": sha(first)})
    reply = await api.call("PUT", f"{base}/dist/b.deb?worker={worker}", token=token,
                           data=first, headers={"Ick-Digest": sha(first + b"x")})
    assert (reply.status, reply.error) == (
        400, f"output dist/b.deb: build {bid}'s outputs would pass max_outputs_mb (1 MiB); "
             "not stored")
    assert [o["path"] for o in (await api.ok("GET", f"/builds/{bid}"))["outputs"]] == [
        "dist/a.deb"]
