"""A cancelled action keeps the time it ran, in its log footer and the build's JSON (it
showed `---- exit code none, 0.00 s` after running 30 s); against a real daemon."""

from __future__ import annotations

import re

from tests.daemon import Daemon


def test_a_cancelled_action_shows_the_time_it_ran(daemon: Daemon) -> None:
    daemon.apply("""
pipelines:
  - pipeline: slow
    actions:
      - shell: echo started; sleep 30
        where: host
projects:
  - project: slow
    pipelines: [slow]
""")
    build_id = daemon.trigger("slow")
    daemon.wait_log(build_id, "started")
    result = daemon.ick("cancel", str(build_id))
    assert result.returncode == 0, result.stderr
    doc = daemon.wait_build(build_id, timeout=30)
    assert doc["state"] == "cancelled"
    [action] = doc["actions"]
    assert action["state"] == "cancelled"
    assert action["duration"] > 0
    status, log = daemon.api("GET", f"/builds/{build_id}/log")
    footer = re.search(r"---- exit code none, ([0-9.]+) s\n", str(log))
    assert footer is not None, log
    assert float(footer[1]) > 0
