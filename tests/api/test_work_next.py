"""The work protocol's `done` with `next=1` (ick/api/work.py): the answer brings the
worker's next action when one is ready, so it need not poll for it."""

from __future__ import annotations

from tests.api.apiclient import WAIT, Api


async def test_done_with_next_hands_over_the_next_action_of_the_job_then_of_the_queue(
        api: Api) -> None:
    await api.setup_hello()
    worker = (await api.ok("POST", "/work", 201, json={"name": "remote"}))["worker"]
    first = (await api.ok("POST", "/projects/hello/+trigger", 201))["id"]
    second = (await api.ok("POST", "/projects/hello/+trigger", 201))["id"]
    item = await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
    assert (item["build_id"], item["seq"]) == (first, 0)
    ok = {"exit_code": 0, "duration": 0.1}

    doc = await api.ok("POST", f"/work/{first}/0/done?worker={worker}&next=1", json=ok)
    assert doc["more"] is True
    assert (doc["work"]["build_id"], doc["work"]["seq"]) == (first, 1)

    doc = await api.ok("POST", f"/work/{first}/1/done?worker={worker}&next=1", json=ok)
    assert doc["more"] is False
    assert (doc["work"]["build_id"], doc["work"]["seq"], doc["work"]["total"]) == (
        second, 0, 2)
    assert (await api.ok("GET", f"/builds/{first}"))["state"] == "succeeded"
    assert (await api.ok("GET", f"/builds/{second}"))["worker"] == worker

    failed = {"exit_code": 1, "duration": 0.1}
    doc = await api.ok("POST", f"/work/{second}/0/done?worker={worker}&next=1", json=failed)
    assert doc == {"more": False}  # nothing queued: the worker polls as before
    assert (await api.ok("GET", f"/builds/{second}"))["state"] == "failed"
    idle = await api.call("GET", f"/work?worker={worker}&timeout=0")
    assert idle.status == 204


async def test_done_without_next_answers_as_before(api: Api) -> None:
    await api.setup_hello()
    worker = (await api.ok("POST", "/work", 201, json={"name": "remote"}))["worker"]
    bid = (await api.ok("POST", "/projects/hello/+trigger", 201))["id"]
    await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
    done = {"exit_code": 0, "duration": 0.1}
    assert await api.ok("POST", f"/work/{bid}/0/done?worker={worker}", json=done) == {
        "more": True}
    item = await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
    assert (item["build_id"], item["seq"]) == (bid, 1)
