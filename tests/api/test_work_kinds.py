"""GET /work (ick/api/work.py) hands a worker each action with the kind decided when its
pipeline was checked, which the dispatcher put on the work item."""

from __future__ import annotations

from tests.api.apiclient import WAIT, Api


async def test_each_work_item_says_its_actions_kind(api: Api) -> None:
    await api.setup_hello()  # pipeline greet: a shell action, then a python one
    worker = (await api.ok("POST", "/work", 201, json={"name": "remote"}))["worker"]
    bid = (await api.ok("POST", "/projects/hello/+trigger", 201))["id"]
    kinds = []
    for seq in (0, 1):
        item = await api.ok("GET", f"/work?worker={worker}&timeout={WAIT}")
        assert (item["build_id"], item["seq"]) == (bid, seq)
        kinds.append(item["kind"])
        await api.ok("POST", f"/work/{bid}/{seq}/done?worker={worker}",
                     json={"exit_code": 0, "duration": 0.1})
    assert kinds == ["shell", "python"]
