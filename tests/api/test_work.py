"""The work protocol (ick/api/work.py) on the real services: a build run by a worker over
HTTP, reports that do not fit, cancelling."""

from __future__ import annotations

import asyncio

from tests.api.apiclient import PIPELINE, WAIT, Api

OUTCOME = "outcome: expected a whole number or null as exit_code and seconds as duration"


async def test_a_build_runs_over_the_work_protocol(api: Api) -> None:
    """Play a remote worker: register, take each action, stream output, report exits."""
    await api.setup_hello()
    worker = (await api.ok("POST", "/work", 201, json={"name": "remote"}))["worker"]
    assert worker.startswith("remote-")
    build = await api.ok("POST", "/projects/hello/+trigger", 201)
    bid = build["id"]

    item = await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
    assert (item["build_id"], item["seq"], item["total"]) == (bid, 0, 2)
    assert (item["project"], item["number"]) == ("hello", 1)
    assert item["action"] == PIPELINE["actions"][0]
    assert item["parameters"] == {"greeting": "hi", "keep": 1,
                                  "ick_trigger": "api", "ick_event": "manual"}
    assert (await api.ok("GET", f"/builds/{bid}"))["state"] == "running"
    await api.ok("POST", f"/work/{bid}/0/output?worker={worker}", data=b"hello from 0\n")
    done = {"exit_code": 0, "duration": 0.25}
    assert await api.ok("POST", f"/work/{bid}/0/done?worker={worker}", json=done) == {
        "more": True}

    item = await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
    assert (item["build_id"], item["seq"]) == (bid, 1)
    failed = {"exit_code": 3, "duration": 1.0}
    assert await api.ok("POST", f"/work/{bid}/1/done?worker={worker}", json=failed) == {
        "more": False}

    ended = await api.ok("GET", f"/builds/{bid}")
    assert ended["state"] == "failed"
    assert ended["worker"] == worker
    assert [(a["state"], a["exit_code"], a["duration"], a["message"])
            for a in ended["actions"]] == [
        ("succeeded", 0, 0.25, None), ("failed", 3, 1.0, "exit status 3")]
    log = (await api.call("GET", f"/builds/{bid}/log")).text
    assert "hello from 0\n" in log
    assert log.endswith(f"ick: build {bid} failed\n")
    tail = await api.call("GET", f"/builds/{bid}/log?offset={len(log.encode()) - 6}")
    assert tail.text == "ailed\n"
    # the log of an ended build does not wait, even when followed
    followed = await asyncio.wait_for(api.call("GET", f"/builds/{bid}/log?follow=1"), WAIT)
    assert followed.text == log
    idle = await api.call("GET", f"/work?worker={worker}&timeout=0")
    assert (idle.status, idle.text) == (204, "")


async def test_the_work_protocol_ignores_reports_that_do_not_fit(api: Api) -> None:
    await api.setup_hello()
    worker = (await api.ok("POST", "/work", 201, json={"name": "w"}))["worker"]
    other = (await api.ok("POST", "/work", 201, json={"name": "other"}))["worker"]
    bid = (await api.ok("POST", "/projects/hello/+trigger", 201))["id"]
    assert (await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}"))["seq"] == 0
    await api.ok("POST", f"/work/{bid}/0/output?worker={other}", data=b"not mine\n")
    await api.ok("POST", f"/work/{bid}/1/output?worker={worker}", data=b"not now\n")
    failed = {"exit_code": 1, "duration": 1.0}
    for path in (f"/work/{bid}/0/done?worker={other}", f"/work/{bid}/99/done?worker={worker}",
                 f"/work/{bid}/1/done?worker={worker}"):
        reply = await api.call("POST", path, json=failed)
        assert reply.status == 200, (path, reply.text)
    build = await api.ok("GET", f"/builds/{bid}")
    assert build["state"] == "running"
    assert [a["state"] for a in build["actions"]] == ["running", "pending"]
    reply = await api.call("POST", f"/work/{bid}/0/done?worker={worker}",
                           json={"exit_code": 10**30, "duration": 1.0})
    assert (reply.status, reply.error) == (400, OUTCOME)
    await api.ok("POST", f"/work/{bid}/0/done?worker={worker}", json=failed)
    build = await api.ok("GET", f"/builds/{bid}")
    assert build["state"] == "failed"
    log = (await api.call("GET", f"/builds/{bid}/log")).text
    assert "not mine" not in log and "not now" not in log
    assert log.count("---- exit code") == 1


async def test_cancelling_a_running_build_tells_its_worker(api: Api) -> None:
    await api.setup_hello()
    worker = (await api.ok("POST", "/work", 201, json={}))["worker"]
    assert worker.startswith("worker-")
    bid = (await api.ok("POST", "/projects/hello/+trigger", 201))["id"]
    await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
    waiting = asyncio.create_task(api.call("GET", f"/work/{bid}/0/cancel?worker={worker}"))
    following = asyncio.create_task(api.call("GET", f"/builds/{bid}/log?follow=1"))
    try:
        running = await api.ok("POST", f"/builds/{bid}/+cancel")
        assert running["state"] == "running"  # it ends when the worker stops the action
        told = await asyncio.wait_for(waiting, WAIT)
        assert (told.status, told.body) == (200, {"cancel": True})
        await api.ok("POST", f"/work/{bid}/0/done?worker={worker}",
                     json={"exit_code": -15, "duration": 0.1})
        log = await asyncio.wait_for(following, WAIT)
        assert log.text.endswith(f"ick: build {bid} cancelled\n")
    finally:
        waiting.cancel()
        following.cancel()
    ended = await api.ok("GET", f"/builds/{bid}")
    assert ended["state"] == "cancelled"
    assert [(a["state"], a["message"]) for a in ended["actions"]] == [
        ("cancelled", "cancelled"), ("skipped", None)]
