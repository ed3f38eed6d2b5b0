"""`POST /prune` (ick/api/prune.py) on the real services, after a rebuild."""

from __future__ import annotations

from tests.api.apiclient import Api


async def test_rebuild_and_prune_over_the_api(api: Api) -> None:
    await api.setup_hello()
    first = await api.ok("POST", "/projects/hello/+trigger", 201,
                         json={"parameters": {"greeting": "yo", "ick_trigger": "hook"}})
    assert first["parameters"]["ick_trigger"] == "hook"
    again = await api.ok("POST", f"/builds/{first['id']}/+rebuild", 201)
    assert again["parameters"] == {"greeting": "yo", "keep": 1,
                                   "ick_trigger": "rebuild", "ick_event": "manual"}
    assert again["number"] == first["number"] + 1
    report = await api.ok("POST", "/prune", json={"dry_run": True})
    assert report["dry_run"] is True and report["bytes_freed"] == 0
    assert [r["what"] for r in report["removed"]] == [
        "builds", "logs", "artifact blobs", "workspaces", "git mirrors", "cached systrees"]
    bad = await api.call("POST", "/prune", json={"dry_run": 1})
    assert (bad.status, bad.error) == (
        400, "expected a JSON object with an optional 'dry_run' (true or false)")
    claimed = await api.call("POST", "/projects/hello/+trigger",
                             json={"parameters": {"ick_trigger": "schedule"}})
    assert (claimed.status, claimed.error) == (
        400, "parameters: ick_trigger must be one of api, hook, not 'schedule'")
