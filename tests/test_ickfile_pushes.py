"""`branches:`, `tags:` and `cancel_superseded:` on a project (DESIGN.md, "What was pushed"):
read, checked at `ick apply` with FILE:LINE, kept."""

from __future__ import annotations

import json
import textwrap

from ick.ickfile import load_ick_text, project_from_doc
from ick.storage.resources import project_from_json
from tests.test_ickfile import problems_of


def test_the_keys_are_read_and_kept_and_default_to_every_branch_and_no_tag() -> None:
    loaded = load_ick_text(textwrap.dedent("""\
        projects:
          - project: x
            branches: [main, "release/*", main]
            tags: ["v*"]
            cancel_superseded: true
          - project: y
        """), "hello.ick")
    x, y = loaded.projects
    assert (x.branches, x.tags, x.cancel_superseded) == (["main", "release/*"], ["v*"], True)
    assert (y.branches, y.tags, y.cancel_superseded) == (["*"], [], False)
    assert {k: x.to_doc()[k] for k in ("branches", "tags", "cancel_superseded")} == {
        "branches": ["main", "release/*"], "tags": ["v*"], "cancel_superseded": True}
    assert not {"branches", "tags", "cancel_superseded"} & set(y.to_doc())
    for project in (x, y):
        assert project_from_doc(project.to_doc(), "again") == project
        assert project_from_json(json.dumps(project.to_doc())) == project


def test_no_branch_at_all_is_kept_as_written() -> None:
    (x,) = load_ick_text("projects:\n  - project: x\n    branches: []\n", "a.ick").projects
    assert x.branches == []
    assert project_from_doc(x.to_doc(), "again").branches == []


def test_bad_values_are_placed_by_file_and_line() -> None:
    assert problems_of("""\
        projects:
          - project: x
            branches: main
            tags:
              - "v*"
              - ""
              - {a: b}
              - "bad\\tglob"
            cancel_superseded: "yes"
        """) == [
        "hello.ick:3: project 'x': 'branches' must be a list of globs, not 'main'",
        "hello.ick:6: project 'x': in 'tags': a glob must be a non-empty string, not ''",
        "hello.ick:7: project 'x': in 'tags': a glob must be a non-empty string, not "
        "{'a': 'b'}",
        "hello.ick:8: project 'x': in 'tags': bad glob 'bad\\tglob': at most 200 characters, "
        "no control characters",
        "hello.ick:9: project 'x': 'cancel_superseded' must be true or false, not 'yes'",
    ]
