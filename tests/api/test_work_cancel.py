"""The cancel route of the work protocol (ick/api/work.py): only the worker that runs an
action may poll it (issue 22: any worker token could poll another worker's)."""

from __future__ import annotations

from tests.api.apiclient import WAIT, Api


async def test_a_worker_may_poll_only_the_cancel_route_of_its_own_action(api: Api) -> None:
    await api.ok("PUT", "/pipelines/pl", 201, json={
        "pipeline": "pl", "actions": [{"shell": "true", "where": "host"}]})
    await api.ok("PUT", "/projects/p", 201, json={"project": "p", "pipelines": ["pl"],
                                                   "worker": {"site": "a"}})
    tokens = [await api.token("worker", name=name) for name in ("a", "b")]
    a, b = [(await api.ok("POST", "/work", 201, token=token,
                          json={"name": name, "labels": {"site": name}}))["worker"]
            for token, name in zip(tokens, ("a", "b"), strict=True)]
    bid = (await api.ok("POST", "/projects/p/+trigger", 201))["id"]
    item = await api.ok("GET", f"/work?worker={a}&timeout={WAIT}", token=tokens[0])
    assert (item["build_id"], item["seq"]) == (bid, 0)

    reply = await api.call("GET", f"/work/{bid}/0/cancel?worker={b}&timeout=0",
                           token=tokens[1])
    assert (reply.status, reply.error) == (403, f"worker {b!r} is not running action 0 of "
                                                f"build {bid}")
    # b's token cannot speak for a either
    reply = await api.call("GET", f"/work/{bid}/0/cancel?worker={a}&timeout=0",
                           token=tokens[1])
    assert reply.status == 403
    assert await api.ok("GET", f"/work/{bid}/0/cancel?worker={a}&timeout=0",
                        token=tokens[0]) == {"cancel": False}
    await api.ok("POST", f"/builds/{bid}/+cancel")
    assert await api.ok("GET", f"/work/{bid}/0/cancel?worker={a}&timeout={WAIT}",
                        token=tokens[0]) == {"cancel": True}
