"""The controller enforces an action's `timeout:` itself: a remote worker that takes the
action, keeps renewing its lease and never reports has it failed after timeout plus the
grace, and its cancel poll says stop (it kept such a build `running` forever)."""

from __future__ import annotations

import asyncio
import time

from ick.daemon import Daemon
from tests.api.apiclient import WAIT, Api

TIMEOUT = 1  # the action's `timeout:`, in seconds
GRACE = 0.5  # the controller's grace past it (30 s in a daemon)


async def test_a_silent_remote_action_is_failed_after_its_timeout(api: Api, svc: Daemon) -> None:
    await api.ok("PUT", "/pipelines/hang", 201, json={"pipeline": "hang", "actions": [
        {"shell": "sleep 3600", "where": "host", "timeout": TIMEOUT},
        {"shell": "echo never", "where": "host"}]})
    await api.ok("PUT", "/projects/hang", 201, json={"project": "hang", "pipelines": ["hang"]})
    svc.controller.timeout_grace = GRACE
    sweep = asyncio.create_task(svc.controller.sweep_leases())
    try:
        worker = (await api.ok("POST", "/work", 201, json={"name": "stuck"}))["worker"]
        bid = (await api.ok("POST", "/projects/hang/+trigger", 201))["id"]
        item = await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
        assert (item["build_id"], item["seq"]) == (bid, 0)
        taken = time.monotonic()
        told = asyncio.create_task(api.call("GET", f"/work/{bid}/0/cancel?worker={worker}"))
        # The worker stays alive: it sends output (which renews its lease), never `done`.
        deadline = taken + TIMEOUT + GRACE + WAIT
        while (await api.ok("GET", f"/builds/{bid}"))["state"] == "running":
            assert time.monotonic() < deadline, "the controller never ended the action"
            await api.ok("POST", f"/work/{bid}/0/output?worker={worker}", data=b"still here\n")
            await asyncio.sleep(0.1)
        assert time.monotonic() - taken > TIMEOUT + GRACE
        stop = await asyncio.wait_for(told, WAIT)
        assert (stop.status, stop.body) == (200, {"cancel": True})
        ended = await api.ok("GET", f"/builds/{bid}")
        assert ended["state"] == "failed"
        first, second = ended["actions"]
        assert (first["state"], first["exit_code"], first["message"]) == (
            "failed", None, f"timed out after {TIMEOUT} s")
        assert first["duration"] > TIMEOUT + GRACE
        assert second["state"] == "skipped"
        log = (await api.call("GET", f"/builds/{bid}/log")).text
        assert f"ick: timed out after {TIMEOUT} s\n---- exit code none, " in log
        assert log.endswith(f"ick: build {bid} failed\n")
        # Its late report changes nothing.
        late = await api.ok("POST", f"/work/{bid}/0/done?worker={worker}",
                            json={"exit_code": 0, "duration": 9.0})
        assert late == {"more": False}
        assert (await api.ok("GET", f"/builds/{bid}"))["state"] == "failed"
    finally:
        sweep.cancel()
