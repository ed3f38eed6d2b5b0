"""`when:` conditions in .ick files and resource documents: on actions, pipelines and entries
of a project's `pipelines:` (a name, or {pipeline: NAME, when: {...}}); read, kept as written,
and every problem placed by FILE:LINE."""

from __future__ import annotations

import textwrap

import pytest

from ick.errors import IckFileError
from ick.ickfile import check_references, load_ick_text, pipeline_from_doc, project_from_doc
from ick.model import PipelineEntry
from tests.test_ickfile import problems_of

EVENTS = "push, tag, change, manual, schedule, downstream, deploy"
KEYS = "branch, event, parameters, status, tag"
GOOD = """\
    projects:
      - project: hello
        matrix: {arch: [amd64, arm64]}
        pipelines:
          - build
          - pipeline: publish
            when: {branch: main, event: [push, manual]}
          - {pipeline: release, when: {tag: "v*"}}
    pipelines:
      - pipeline: build
        actions:
          - shell: make
            where: host
          - shell: collect-reports
            where: host
            when: {status: [success, failure]}
          - shell: upload
            where: host
            when: {parameters: {arch: amd64, debug: [true, null, 1.5]}, status: failure}
      - pipeline: publish
        when: {event: push}
        actions: [{action: apt_publish, where: host, debs: ["*.deb"]}]
      - pipeline: release
        when: {event: tag, tag: ["v*", "release-*"], branch: "*"}
        actions: [{shell: "true", where: host}]
"""


def test_conditions_are_read_at_every_level_and_kept_as_written() -> None:
    loaded = load_ick_text(textwrap.dedent(GOOD), "hello.ick")
    project = loaded.projects[0]
    assert project.pipelines == [
        "build",
        {"pipeline": "publish", "when": {"branch": "main", "event": ["push", "manual"]}},
        {"pipeline": "release", "when": {"tag": "v*"}},
    ]
    assert project.to_doc()["pipelines"] == project.pipelines
    assert project.pipeline_names() == ["build", "publish", "release"]
    assert project.pipeline_entries() == [
        PipelineEntry("build"),
        PipelineEntry("publish", {"branch": "main", "event": ["push", "manual"]}),
        PipelineEntry("release", {"tag": "v*"}),
    ]
    pipelines = {p.name: p for p in loaded.pipelines}
    assert pipelines["build"].when == {} and "when" not in pipelines["build"].to_doc()
    assert pipelines["publish"].to_doc()["when"] == {"event": "push"}
    assert pipelines["build"].actions[2]["when"] == {
        "parameters": {"arch": "amd64", "debug": [True, None, 1.5]}, "status": "failure"}
    assert check_references(loaded.projects, pipelines) == []
    # The documents the API takes read the same
    again = project_from_doc(project.to_doc(), "PUT /projects/hello")
    assert again.pipelines == project.pipelines
    assert pipeline_from_doc(pipelines["release"].to_doc(), "x").when == pipelines["release"].when


def test_a_project_entry_names_a_pipeline_that_must_exist() -> None:
    loaded = load_ick_text(textwrap.dedent("""\
        projects:
          - project: x
            pipelines: [{pipeline: gone, when: {event: push}}]
        """), "hello.ick")
    assert loaded.reference_problems() == [
        "hello.ick:2: project 'x' names pipeline 'gone', which does not exist"]


def test_every_problem_of_a_condition_is_placed_at_its_line() -> None:
    assert problems_of("""\
        projects:
          - project: x
            pipelines:
              - build
              - {pipeline: build, when: {branch: main, evnt: push}}
              - {pipeline: build, whn: {}}
              - {when: {event: push}}
              - 3
              - {pipeline: "../up"}
        pipelines:
          - pipeline: build
            when:
              event: [push, pushed]
              tag: 3
            actions:
              - shell: "true"
                where: host
                when:
                  status: failed
                  parameters: {arch: [amd64, {x: 1}], os: []}
                  branch: []
              - shell: "true"
                where: host
                when: main
              - shell: "true"
                where: host
                when:
                  event: 7
                  branch: ["main", ""]
                  parameters: [arch]
                  status: [success, 2]
        """) == [
        f"hello.ick:5: pipelines entry 2 of project 'x': 'when': unknown key 'evnt' (expected "
        f"one of: {KEYS})",
        "hello.ick:6: pipelines entry 3 of project 'x': unknown key 'whn' (expected one of: "
        "pipeline, when)",
        "hello.ick:7: pipelines entry 4 of project 'x': missing 'pipeline' (the pipeline's name)",
        "hello.ick:8: project 'x': in 'pipelines': a name must be a non-empty string (or a "
        "mapping {pipeline: NAME, when: ...})",
        "hello.ick:9: pipelines entry 6 of project 'x': bad name '../up': use letters, digits, "
        "'.', '_', '-' and '/'",
        f"hello.ick:13: pipeline 'build': 'when': unknown event 'pushed' (expected one of: "
        f"{EVENTS})",
        "hello.ick:14: pipeline 'build': 'when': 'tag' must be a glob or a list of globs, not 3",
        "hello.ick:19: action 1 of pipeline 'build': 'when': unknown status 'failed' (expected "
        "one of: success, failure)",
        "hello.ick:20: action 1 of pipeline 'build': 'when': parameter 'arch' must be a value "
        "(string, number, true, false or null) or a list of values, not [\"amd64\", {\"x\": 1}]",
        "hello.ick:20: action 1 of pipeline 'build': 'when': parameter 'os' must not be an "
        "empty list (it would never hold)",
        "hello.ick:21: action 1 of pipeline 'build': 'when': 'branch' must not be an empty list "
        "(it would never hold)",
        "hello.ick:24: action 2 of pipeline 'build': 'when' must be a mapping with keys branch, "
        "event, parameters, status or tag, not 'main'",
        f"hello.ick:28: action 3 of pipeline 'build': 'when': 'event' must be one of {EVENTS}, "
        "or a list of them, not 7",
        "hello.ick:29: action 3 of pipeline 'build': 'when': 'branch' must be a glob or a list "
        "of globs, not ''",
        "hello.ick:30: action 3 of pipeline 'build': 'when': 'parameters' must be a mapping of "
        "parameter names to a value or a list of values, not [\"arch\"]",
        "hello.ick:31: action 3 of pipeline 'build': 'when': 'status' must be one of success, "
        "failure, or a list of them, not 2",
    ]


@pytest.mark.parametrize(("doc", "problem"), [
    ({"project": "x", "pipelines": [{"pipeline": "p", "when": {"event": "pull"}}]},
     f"PUT /projects/x: pipelines entry 1 of project 'x': 'when': unknown event 'pull' "
     f"(expected one of: {EVENTS})"),
    ({"project": "x", "pipelines": [{"pipeline": "p", "when": []}]},
     f"PUT /projects/x: pipelines entry 1 of project 'x': 'when' must be a mapping with keys "
     f"{KEYS.replace(', tag', ' or tag')}, not []"),
])
def test_documents_are_checked_as_files_are(doc: dict[str, object], problem: str) -> None:
    with pytest.raises(IckFileError) as info:
        project_from_doc(doc, "PUT /projects/x")
    assert info.value.problems == [problem]


def test_a_pipeline_document_with_a_bad_condition_is_refused() -> None:
    doc = {"pipeline": "p", "when": {"status": "always"},
           "actions": [{"shell": "true", "where": "host", "when": {"tag": ["v*", 1]}}]}
    with pytest.raises(IckFileError) as info:
        pipeline_from_doc(doc, "PUT /pipelines/p")
    assert info.value.problems == [
        "PUT /pipelines/p: action 1 of pipeline 'p': 'when': 'tag' must be a glob or a list of "
        "globs, not 1",
        "PUT /pipelines/p: pipeline 'p': 'when': unknown status 'always' (expected one of: "
        "success, failure)",
    ]


def test_a_condition_must_be_json_data_at_every_level() -> None:
    assert problems_of("""\
        projects:
          - project: p
            pipelines: [{pipeline: a, when: {parameters: {x: .inf}}}]
        pipelines:
          - pipeline: a
            when: {parameters: {x: .inf}}
            actions:
              - shell: x
                where: host
                when: {parameters: {x: .nan}}
        """) == [
        "hello.ick:3: pipelines entry 1 of project 'p': 'when': inf is not a JSON number",
        "hello.ick:6: pipeline 'a': 'when': inf is not a JSON number",
        "hello.ick:10: action 1 of pipeline 'a': 'when': nan is not a JSON number",
    ]
