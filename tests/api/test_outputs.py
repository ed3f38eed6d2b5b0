"""A build's outputs over the API: listed in the build's own JSON (not in listings), and each
downloaded streamed with its digest at GET /builds/{id}/outputs/{path}; only a path the build
kept is served, and a token bound to other projects sees none."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from tests.api.apiclient import Api


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


DEB = bytes(range(256)) * 1000
REPORT = "<testsuite name='ü'/>\n".encode()


async def setup(api: Api) -> int:
    """Build 1 of `hello`, with outputs kept by jobs 0 and 1 (as workers keep them)."""
    await api.setup_hello()
    bid = int((await api.ok("POST", "/projects/hello/+trigger", 201))["id"])
    await api.svc.outputs.put(bid, 0, "dist/hello_1.0_amd64.deb", chunks(DEB))
    await api.svc.outputs.put(bid, 0, "reports/ünit.xml", chunks(REPORT))
    await api.svc.outputs.put(bid, 1, "reports/ünit.xml", chunks(b"job 1"))
    return bid


async def test_the_build_s_json_lists_its_outputs(api: Api) -> None:
    bid = await setup(api)
    doc = await api.ok("GET", f"/builds/{bid}")
    assert doc["outputs"] == [
        {"path": "dist/hello_1.0_amd64.deb", "size": len(DEB), "digest": sha(DEB), "job": 0},
        {"path": "reports/ünit.xml", "size": len(REPORT), "digest": sha(REPORT), "job": 0},
        {"path": "reports/ünit.xml", "size": 5, "digest": sha(b"job 1"), "job": 1},
    ]
    assert await api.ok("GET", f"/builds/{bid}/outputs") == doc["outputs"]
    assert all("outputs" not in b for b in await api.ok("GET", "/builds"))


async def test_an_output_downloads_byte_for_byte_with_its_digest(api: Api) -> None:
    bid = await setup(api)
    async with api.client.get(f"/builds/{bid}/outputs/dist/hello_1.0_amd64.deb", headers={
            "Authorization": f"Bearer {api.admin}"}) as reply:
        assert reply.status == 200
        assert reply.headers["Ick-Digest"] == sha(DEB)
        assert await reply.read() == DEB
    async with api.client.get(f"/builds/{bid}/outputs/reports/%C3%BCnit.xml?job=1", headers={
            "Authorization": f"Bearer {api.admin}"}) as reply:
        assert (reply.status, await reply.read()) == (200, b"job 1")
    first = await api.call("GET", f"/builds/{bid}/outputs/reports/ünit.xml")
    assert (first.status, first.text.encode()) == (200, REPORT)


async def test_unknown_outputs_and_paths_out_are_refused(api: Api) -> None:
    bid = await setup(api)
    # A path with '..' is 400, or 404 where the URL's dot segments were resolved first.
    for path, statuses in [
        ("nothing.deb", {404}), ("dist", {404}), ("dist/hello_1.0_amd64.deb?job=1", {404}),
        ("dist/hello_1.0_amd64.deb?job=x", {400}), ("dist/%2E%2E/%2E%2E/admin.token", {404}),
        ("dist/..%2F..%2F..%2Fadmin.token", {400}), ("%2Fetc%2Fpasswd", {400}),
        ("../../../admin.token", {400, 404}),
    ]:
        reply = await api.call("GET", f"/builds/{bid}/outputs/{path}")
        assert reply.status in statuses, (path, reply.text)
        assert "error" in reply.body, (path, reply.text)
    missing = await api.call("GET", f"/builds/{bid}/outputs/nothing.deb")
    assert missing.error == f"build {bid} has no output 'nothing.deb'"
    assert (await api.call("GET", "/builds/999/outputs/x")).status == 404


async def test_read_scope_and_the_token_s_projects_hold(api: Api) -> None:
    bid = await setup(api)
    path = f"/builds/{bid}/outputs/reports/ünit.xml"
    assert (await api.call("GET", path, token=None)).status == 401
    worker = await api.token("worker")
    assert (await api.call("GET", path, token=worker)).status == 403
    reader = await api.token("read")
    assert (await api.call("GET", path, token=reader)).status == 200
    created = await api.ok("POST", "/tokens", 201, json={
        "name": "other", "scopes": ["read"], "projects": ["other*"]})
    for route in (path, f"/builds/{bid}/outputs", f"/builds/{bid}"):
        reply = await api.call("GET", route, token=str(created["token"]))
        assert (reply.status, reply.error) == (404, f"no build {bid}"), route
    bound = await api.ok("POST", "/tokens", 201, json={
        "name": "mine", "scopes": ["read"], "projects": ["hello"]})
    assert (await api.call("GET", path, token=str(bound["token"]))).status == 200
