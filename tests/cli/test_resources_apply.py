"""`ick apply` against a real daemon: every problem of a file at once, the structural ones
and the references among what did parse; and "unchanged" for what did not change (issue 22,
finding 15)."""

from __future__ import annotations

from pathlib import Path

from tests.daemon import Daemon

BROKEN = """\
projects:
  - project: hello
    pipelines: [nosuch]
  - project: other
    colour: red
    pipelines: [p]
  - project: third
    pipelines: [p]
pipelines:
  - pipeline: p
    actions:
      - shell: "true"
        where: moon
"""

GOOD = """\
projects:
  - project: hello
    pipelines: [p]
pipelines:
  - pipeline: p
    actions:
      - shell: "true"
        where: host
"""


def test_structural_and_reference_problems_come_together(daemon: Daemon,
                                                         tmp_path: Path) -> None:
    path = tmp_path / "broken.ick"
    path.write_text(BROKEN)
    result = daemon.ick("apply", str(path))
    assert result.returncode == 2
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"ick: error: {path}:5: project 'other': unknown key 'colour'")
    assert errors[1].startswith(f"ick: error: {path}:13: ")
    assert "moon" in errors[1]
    # The pipeline with a problem of its own is not also "missing" for `third`.
    assert errors[2:] == [f"ick: error: {path}:2: project 'hello' names pipeline 'nosuch', "
                          "which does not exist"]
    assert daemon.api("GET", "/projects") == (200, [])


def test_what_did_not_change_says_unchanged(daemon: Daemon, tmp_path: Path) -> None:
    path = tmp_path / "good.ick"
    path.write_text(GOOD)
    first = daemon.ick("apply", str(path))
    assert first.stdout == "pipeline p: applied\nproject hello: applied\n"
    again = daemon.ick("apply", str(path))
    assert again.stdout == "pipeline p: unchanged\nproject hello: unchanged\n"
    path.write_text(GOOD.replace("pipelines: [p]", "pipelines: [p]\n    parameters: {a: 1}"))
    changed = daemon.ick("apply", str(path))
    assert changed.stdout == "pipeline p: unchanged\nproject hello: applied\n"
    status, doc = daemon.api("POST", "/apply", {"pipelines": [{
        "pipeline": "p", "actions": [{"shell": "true", "where": "host"}]}]})
    assert (status, doc) == (200, {"applied": [{"pipeline": "p", "created": False,
                                                "changed": False}]})
