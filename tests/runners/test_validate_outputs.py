"""`outputs: [GLOB, ...]` on every action type, checked by `ick apply` with FILE:LINE: a list of
non-empty globs relative to the workspace."""

from __future__ import annotations

import textwrap

import pytest

from ick.ickfile import load_ick_text
from ick.runners.catalog import ACTION_TYPES
from tests.test_ickfile import problems_of

RULE = ("a list of glob patterns relative to the workspace (not empty, no '/' at the start, "
        "no '..')")


def test_every_action_type_takes_outputs() -> None:
    for record in ACTION_TYPES:
        assert record.settings.get("outputs") is None, record.kind  # a common key, not theirs
    loaded = load_ick_text(textwrap.dedent("""\
        pipelines:
          - pipeline: p
            actions:
              - shell: make
                where: host
                outputs: ["dist/*.deb", "**/report.xml", build]
              - action: rsync
                where: host
                outputs: [log.txt]
        """), "hello.ick")
    assert loaded.pipelines[0].actions[0]["outputs"] == ["dist/*.deb", "**/report.xml",
                                                         "build"]


@pytest.mark.parametrize(("value", "shown"), [
    ('"dist/*.deb"', "'dist/*.deb'"),
    ("[]", "[]"),
    ('[""]', "['']"),
    ('["/etc/passwd"]', "['/etc/passwd']"),
    ('["../secret"]', "['../secret']"),
    ('["dist/../../x"]', "['dist/../../x']"),
    ("[1]", "[1]"),
])
def test_bad_outputs_name_file_line_and_rule(value: str, shown: str) -> None:
    assert problems_of(f"""\
        pipelines:
          - pipeline: p
            actions:
              - shell: make
                where: host
                outputs: {value}
        """) == [f"hello.ick:6: action 1 of pipeline 'p': 'outputs' must be {RULE}, not {shown}"]
