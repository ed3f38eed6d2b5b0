"""`notify:` entries of .ick files (ick/ickfile) for every channel and point: DESIGN.md's
example reads as written, and each mistake is one FILE:LINE problem."""

from __future__ import annotations

import textwrap

import pytest

from ick.errors import IckFileError
from ick.ickfile import load_ick_text

DESIGN = """\
projects:
  - project: hello
    pipelines: []
    notify:
      - {email: dev@example.org, when: failure}
      - {webhook: https://hooks.example.org/ick}
      - {matrix: "!abcdef:example.org", when: change}
      - {irc: "#hello", on: [ended, deployment, gate]}
      - {matrix: "#ci:example.org", on: [started, action_failed, approval]}
      - {email: old@example.org, on: [start, end]}
"""


def test_the_design_example_reads_with_every_channel_and_point() -> None:
    [project] = load_ick_text(DESIGN, "hello.ick").projects
    assert project.notify == [
        {"email": "dev@example.org", "when": "failure", "on": ["ended"]},
        {"webhook": "https://hooks.example.org/ick", "when": "always", "on": ["ended"]},
        {"matrix": "!abcdef:example.org", "when": "change", "on": ["ended"]},
        {"irc": "#hello", "when": "always", "on": ["ended", "deployment", "gate"]},
        {"matrix": "#ci:example.org", "when": "always",
         "on": ["started", "action_failed", "approval"]},
        # the names the points had before: read as the new ones
        {"email": "old@example.org", "when": "always", "on": ["started", "ended"]},
    ]


@pytest.mark.parametrize(("entry", "problem"), [
    ('{matrix: "abcdef:example.org"}', "'matrix' must be a room id (!id:server) or alias "
                                       "(#name:server), not 'abcdef:example.org'"),
    ('{matrix: "#nameonly"}', "'matrix' must be a room id (!id:server) or alias "
                              "(#name:server), not '#nameonly'"),
    ("{irc: hello}", "'irc' must be a channel like #hello, not 'hello'"),
    ('{irc: "#a,#b"}', "'irc' must be a channel like #hello, not '#a,#b'"),
    ('{irc: "#x", matrix: "!r:s"}', "'matrix' and 'irc' together (give one per entry)"),
    ('{irc: "#x", secret: key}', "'secret' goes only with 'webhook'"),
    ('{irc: "#x", on: [ended, deploy]}', "'on' must be a list of started, ended, "
                                         "action_failed, deployment, approval, gate, not "
                                         "['ended', 'deploy']"),
    ('{irc: "#x", on: []}', "'on' must be a list of started, ended, action_failed, "
                            "deployment, approval, gate, not []"),
    ("{when: failure}", "missing 'email' or 'webhook' or 'matrix' or 'irc'"),
])
def test_a_bad_entry_is_one_problem_at_its_line(entry: str, problem: str) -> None:
    text = f"""\
    projects:
      - project: x
        pipelines: []
        notify:
          - {{email: fine@example.org}}
          - {entry}
    """
    with pytest.raises(IckFileError) as info:
        load_ick_text(textwrap.dedent(text), "x.ick")
    assert [p.split(": ", 1)[1] for p in info.value.problems] == [
        f"notify 2 of project 'x': {problem}"]
    assert info.value.problems[0].startswith("x.ick:6: ")
