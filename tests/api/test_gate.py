"""`GET /projects/{name}/gate` (ick/api/gate.py) and the triggers that make candidates: a
push to gate/TARGET/NAME of a gated project queues a change build (ick_trigger gate) whatever
`branches:` says, a second push of it gives the same build, other gate/ refs are refused, and
callers may not set ick's own ick_gate."""

from __future__ import annotations

from typing import Any

from tests.api.apiclient import PIPELINE, Api

GATED = {"project": "gated", "parameters": {"git_url": "/srv/git/gated.git",
                                                       "greeting": "hi"},
         "pipelines": ["greet"], "branches": ["main"], "gate": {"branch": "main"}}


def pushed(ref: str, commit: str) -> dict[str, Any]:
    return {"parameters": {"git_ref": ref, "git_commit": commit, "ick_trigger": "hook"}}


async def test_candidates_are_queued_and_listed(api: Api) -> None:
    await api.ok("PUT", "/pipelines/greet", 201, json=PIPELINE)
    await api.ok("PUT", "/projects/gated", 201, json=GATED)
    first = await api.ok("POST", "/projects/gated/+trigger", 201,
                         json=pushed("refs/heads/gate/main/fix", "a" * 40))
    assert (first["event"], first["parameters"]["ick_trigger"]) == ("change", "gate")
    assert first["gate"] == {"target": "main", "base": None, "candidate": "a" * 40,
                             "result": None, "name": "fix", "attempt": 1, "order": None}
    again = await api.ok("POST", "/projects/gated/+trigger", 200,
                         json=pushed("refs/heads/gate/main/fix", "a" * 40))
    assert again["id"] == first["id"]
    second = await api.ok("POST", "/projects/gated/+trigger", 201,
                          json=pushed("refs/heads/gate/main/feature/x", "b" * 40))
    listed = await api.ok("GET", "/projects/gated/gate")
    assert (listed["project"], listed["target"], listed["moving"]) == ("gated", "main", [])
    assert [(c["build"], c["name"], c["result"]) for c in listed["candidates"]] == [
        (second["id"], "feature/x", None), (first["id"], "fix", None)]


async def test_what_is_refused(api: Api) -> None:
    await api.ok("PUT", "/pipelines/greet", 201, json=PIPELINE)
    await api.ok("PUT", "/projects/gated", 201, json=GATED)
    other = await api.call("POST", "/projects/gated/+trigger",
                           json=pushed("refs/heads/gate/dev/x", "a" * 40))
    assert other.status == 409
    assert other.body["error"] == ("'gate/dev/x' is no candidate of project 'gated''s gate: "
                                   "push to gate/main/NAME")
    own = await api.call("POST", "/projects/gated/+trigger",
                         json={"parameters": {"ick_gate": "main"}})
    assert own.status == 400
    assert "ick_gate is ick's own" in own.body["error"]
    missing = await api.call("GET", "/projects/nope/gate")
    assert missing.status == 404
    bad = await api.ok("PUT", "/projects/worse", 400, json={**GATED, "project": "worse",
                                                            "gate": {"branch": "-x"}})
    assert "gate: 'branch' must be a branch name" in bad["error"]
