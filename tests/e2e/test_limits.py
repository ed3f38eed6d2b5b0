"""Names and numbers past their limits are a 400 (or a FILE:LINE error at apply), never a 500."""

from __future__ import annotations

from pathlib import Path

from ick.runners.rules import show_value
from tests.daemon import Daemon

RULE = "names are at most 100 characters, each '/'-separated part at most 64"
LONG = "x" * 300


def test_a_300_character_project_name_is_refused_at_apply(daemon: Daemon, tmp_path: Path) -> None:
    path = tmp_path / "long.ick"
    path.write_text(f"projects:\n  - project: {LONG}\n    pipelines: []\n")
    result = daemon.ick("apply", str(path))
    assert result.returncode == 2
    assert result.stderr == (f"ick: error: {path}:2: project {show_value(LONG)}: bad name "
                             f"'{'x' * 37}'...: {RULE}\n")
    assert daemon.api("GET", "/projects") == (200, [])


def test_names_past_the_limits_are_a_400_naming_the_rule(daemon: Daemon) -> None:
    daemon.apply("projects:\n  - project: p\n    pipelines: []\n")
    shown = f"'{'x' * 37}'..."
    for method, path, raw, message in [
        ("PUT", f"/projects/{LONG}", b'{"pipelines": []}', f"bad name {shown}: {RULE}"),
        ("PUT", f"/projects/a/{'y' * 65}", b'{"pipelines": []}',
         f"bad name 'a/{'y' * 35}'...: {RULE}"),
        ("POST", f"/projects/{LONG}/+trigger", b"{}", f"bad name {shown}: {RULE}"),
        ("PUT", f"/pipelines/{LONG}", b'{"actions": []}', f"bad name {shown}: {RULE}"),
        ("PUT", f"/projects/p/+secrets/{LONG}", b"a secret value",
         f"bad secret name {shown}: {RULE}"),
        ("PUT", f"/artifacts/{LONG}", b"data", f"bad artifact name {shown}: {RULE}"),
    ]:
        status, doc = daemon.api(method, path, raw=raw)
        assert (status, doc) == (400, {"error": message}), path[:40]
    assert daemon.api("GET", "/projects")[1] == [daemon.api("GET", "/projects/p")[1]]


def test_numbers_and_paths_past_the_limits_are_a_400_not_a_500(daemon: Daemon) -> None:
    daemon.apply("""
projects:
  - project: p
    pipelines: [p]
pipelines:
  - pipeline: p
    actions:
      - shell: echo a line
        where: host
""")
    daemon.wait_build(daemon.trigger("p"))
    digits = "9" * 5000
    assert daemon.api("GET", f"/work/{digits}/0/secrets/s1?worker=w") == (
        400, {"error": "build and seq must be numbers"})
    assert daemon.api("GET", f"/apt/{'x' * 5000}", token=None) == (
        400, {"error": "a name in the path is too long"})
    status, text = daemon.api("GET", "/builds/1/log?offset=4611686018427387904")
    assert (status, text) == (200, None)  # nothing there, and the answer is whole
    assert daemon.api("GET", "/builds/1/log?offset=4611686018427387905") == (
        400, {"error": "offset: expected a whole number from 0 to 4611686018427387904, got "
                       "'4611686018427387905'"})
