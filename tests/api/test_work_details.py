"""A worker's `details` go beside an action's own fields, never over them (ick/api/work.py)."""

from __future__ import annotations

from collections.abc import Callable

from tests.daemon import Daemon


def test_a_remote_worker_cannot_set_an_actions_own_fields_through_details(
    start_daemon: Callable[..., Daemon],
) -> None:
    daemon = start_daemon(workers=0)
    token = daemon.ick("token", "create", "--scope", "worker", "--name", "w").stdout.strip()
    daemon.apply("""
projects:
  - project: p
    pipelines: [one]
pipelines:
  - pipeline: one
    actions:
      - shell: "false"
        where: host
""")
    status, doc = daemon.api("POST", "/work", {"name": "w"}, token=token)
    assert status == 201, doc
    worker = doc["worker"]
    build_id = daemon.trigger("p")
    status, item = daemon.api("GET", f"/work?worker={worker}&timeout=30", token=token)
    assert (status, item["build_id"], item["seq"]) == (200, build_id, 0)
    done = f"/work/{build_id}/0/done?worker={worker}"
    for key in ("state", "exit_code", "message", "kind"):
        status, doc = daemon.api("POST", done, {
            "exit_code": 1, "duration": 0.5, "message": "exit status 1",
            "details": {key: "forged", "note": "kept"}}, token=token)
        assert (status, doc) == (400, {"error": f"details: {key!r} is one of the action's "
                                                "own fields, which a worker's details "
                                                "cannot set"})
    status, doc = daemon.api("POST", done, {
        "exit_code": 1, "duration": 0.5, "message": "exit status 1",
        "details": {"note": "kept"}}, token=token)
    assert (status, doc) == (200, {"more": False})
    build = daemon.wait_build(build_id)
    action = build["actions"][0]
    assert (build["state"], action["state"], action["exit_code"], action["message"],
            action["kind"], action["note"]) == (
        "failed", "failed", 1, "exit status 1", "shell", "kept")
