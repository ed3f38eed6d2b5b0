"""The build routes (ick/api/builds.py) on the real services."""

from __future__ import annotations

from tests.api.apiclient import Api


async def test_cancelling_a_queued_build(api: Api) -> None:
    await api.setup_hello()
    build = await api.ok("POST", "/projects/hello/+trigger", 201)
    cancelled = await api.ok("POST", f"/builds/{build['id']}/+cancel")
    assert cancelled["state"] == "cancelled"
    assert [a["state"] for a in cancelled["actions"]] == ["skipped", "skipped"]
    assert cancelled["finished_at"] is not None
    reply = await api.call("POST", f"/builds/{build['id']}/+cancel")
    assert (reply.status, reply.error) == (
        409, f"build {build['id']} has already ended (cancelled)")
    log = await api.call("GET", f"/builds/{build['id']}/log")
    assert log.status == 200
    assert log.text.endswith(f"ick: build {build['id']} cancelled\n")
