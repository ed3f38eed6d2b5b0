"""`trigger_parameters: [NAME, ...]` on a project: what a trigger token may set beside
git_ref and git_commit (DESIGN.md, "What a trigger may choose"); read, checked, kept."""

from __future__ import annotations

import textwrap

from ick.ickfile import load_ick_text, project_from_doc
from tests.test_ickfile import problems_of

PIPELINE = """\
        pipelines:
          - pipeline: p
            actions: [{shell: "true", where: host}]
        """


def test_trigger_parameters_are_read_and_kept_and_default_to_none() -> None:
    loaded = load_ick_text(textwrap.dedent("""\
        projects:
          - project: x
            parameters: {flavour: plain}
            pipelines: [p]
            trigger_parameters: [flavour, flavour, debug]
          - project: y
            pipelines: [p]
        """) + textwrap.dedent(PIPELINE), "hello.ick")
    x, y = loaded.projects
    assert (x.trigger_parameters, y.trigger_parameters) == (["flavour", "debug"], [])
    assert x.to_doc()["trigger_parameters"] == ["flavour", "debug"]
    assert "trigger_parameters" not in y.to_doc()
    assert project_from_doc(x.to_doc(), "again") == x


def test_a_bad_trigger_parameters_is_placed_by_file_and_line() -> None:
    assert problems_of("""\
        projects:
          - project: x
            pipelines: [p]
            trigger_parameters: git_url
        pipelines: []
        """) == [
        "hello.ick:4: project 'x': 'trigger_parameters' must be a list of names, not 'git_url'"]
    assert problems_of("""\
        projects:
          - project: x
            pipelines: [p]
            trigger_parameters:
              - flavour
              - {git_url: x}
        pipelines: []
        """) == [
        "hello.ick:6: project 'x': in 'trigger_parameters': a name must be a non-empty "
        "string, not {'git_url': 'x'}"]
