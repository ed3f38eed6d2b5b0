"""Tests for reading .ick files and resource documents, pinning the text users see."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ick.errors import IckFileError
from ick.ickfile import (
    check_references,
    load_ick_file,
    load_ick_text,
    pipeline_from_doc,
    project_from_doc,
)
from ick.model import ActionTraits, Pipeline, Project
from ick.runners.catalog import ACTION_TYPES
from ick.runners.validate import validate_action

DESIGN_EXAMPLE = """\
projects:
  - project: hello
    parameters: {systree_name: bookworm_systree, greeting: hi}
    pipelines: [prepare_container, hello]
    notify: [{email: dev@example.org, when: failure}]   # when: always|failure|change
pipelines:
  - pipeline: hello
    parameters: [greeting]
    actions:
      - shell: echo "$(params | jq -r .greeting)"
        where: container
"""


def problems_of(text: str, filename: str = "hello.ick") -> list[str]:
    with pytest.raises(IckFileError) as info:
        load_ick_text(textwrap.dedent(text), filename)
    return info.value.problems


def test_design_example_reads_into_dataclasses() -> None:
    ickfile = load_ick_text(DESIGN_EXAMPLE, "hello.ick")
    assert ickfile.projects == [
        Project(
            name="hello",
            parameters={"systree_name": "bookworm_systree", "greeting": "hi"},
            pipelines=["prepare_container", "hello"],
            notify=[{"email": "dev@example.org", "when": "failure", "on": ["ended"]}],
            concurrent=False,
        )
    ]
    assert ickfile.pipelines == [
        Pipeline(
            name="hello",
            parameters=["greeting"],
            actions=[{"shell": 'echo "$(params | jq -r .greeting)"', "where": "container"}],
            traits=(ActionTraits("shell"),),  # decided here, when the file is checked
        )
    ]
    assert ickfile.where("project", "hello") == "hello.ick:2"
    assert ickfile.where("pipeline", "hello") == "hello.ick:7"


def test_every_action_type_reads() -> None:
    ickfile = load_ick_text(
        textwrap.dedent("""\
        pipelines:
          - pipeline: everything
            actions:
              - {python: "print(params)", where: chroot, timeout: 1.5, network: true}
              - {debootstrap: auto, where: host, mirror: "http://deb.debian.org/debian"}
              - {archive: systree, where: host, globs: ["*.deb"], artifact_name: sys}
              - {action: populate_systree, where: host, systree_name: sys}
              - {action: populate_workspace, where: host}
              - {action: git, where: host, git_url: "https://x.org/r.git", git_ref: main}
              - action: git_mirror
                where: host
                sources: [{name: r, repo: "https://x.org/r.git", ref: main, location: r}]
              - {action: rsync, where: host, rsync_src: out, ssh_port: 2222,
                 ssh_key_secret: key, known_hosts_secret: hosts}
              - {action: apt_publish, where: host, debs: "*.deb", distribution: unstable}
              - {action: dput, where: host, changes: x.changes, dput_target: ftp}
        """),
        "all.ick",
    )
    kinds = [a.get("action", next(iter(a))) for a in ickfile.pipelines[0].actions]
    assert kinds == [t.kind for t in ACTION_TYPES][1:]


def test_empty_file_has_nothing() -> None:
    assert load_ick_text("", "empty.ick").projects == []
    assert load_ick_text("projects:\npipelines: []\n", "empty.ick").pipelines == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            """\
            pipelines:
              - pipeline: build
                actions:
                  - shell: make
                    where: host
                  - shel: make
                    where: host
            """,
            [
                "hello.ick:6: action 2 of pipeline 'build': no action type"
                " (expected one of: shell, python, debootstrap, archive, action)",
                "hello.ick:6: action 2 of pipeline 'build': unknown key 'shel'",
            ],
        ),
        (
            """\
            pipelines:
              - pipeline: build
                actions:
                  - shell: make
                    wher: host
            """,
            [
                "hello.ick:4: action 1 of pipeline 'build': missing 'where'"
                " (one of host, chroot, container)",
                "hello.ick:5: action 1 of pipeline 'build': unknown key 'wher'"
                " (expected one of: env, name, network, outputs, secrets, shell, timeout, when,"
                " where,"
                " worker)",
            ],
        ),
        (
            """\
            pipelines:
              - pipeline: systree
                actions:
                  - debootstrap: auto
                    where: container
            """,
            [
                "hello.ick:5: action 1 of pipeline 'systree':"
                " debootstrap cannot run where: container (only host)",
            ],
        ),
        (
            """\
            pipelines:
              - pipeline: systree
                actions:
                  - action: populate_workspace
            """,
            [
                "hello.ick:4: action 1 of pipeline 'systree':"
                " missing 'where' (populate_workspace runs only where: host)",
            ],
        ),
        (
            """\
            pipelines:
              - pipeline: ship
                actions:
                  - action: teleport
                    where: host
            """,
            [
                "hello.ick:4: action 1 of pipeline 'ship': unknown action 'teleport'"
                " (expected one of: populate_systree, populate_workspace, git, git_mirror,"
                " rsync, apt_publish, dput)",
            ],
        ),
        (
            """\
            projects:
              - project: my project
                pipelines: [ok, ../up]
            """,
            [
                "hello.ick:2: project 'my project': bad name 'my project':"
                " use letters, digits, '.', '_', '-' and '/'",
                "hello.ick:3: project 'my project': in 'pipelines': bad name '../up':"
                " use letters, digits, '.', '_', '-' and '/'",
            ],
        ),
        (
            """\
            projects:
              - project: x
                pipline: [a]
            """,
            [
                "hello.ick:3: project 'x': unknown key 'pipline'"
                " (expected one of: branches, cancel_superseded, concurrent, environments,"
                " extra_parameters, fail_fast, forge, gate, keep_builds, keep_days,"
                " keep_deployments, matrix, notify, parameters, pipelines,"
                " poll, project, repository_pipelines, schedule, tags, trigger_parameters,"
                " triggers, trust_changes, trust_repository, worker)",
            ],
        ),
        (
            """\
            projects:
              - parameters: {}
            pipelines:
              - pipeline: a
              - pipeline: a
            pipeline: []
            """,
            [
                "hello.ick:2: project 1: missing 'project' (the project's name)",
                "hello.ick:5: pipeline 'a': defined more than once (first at line 4)",
                "hello.ick:6: unknown key 'pipeline' (expected one of: pipelines, projects)",
            ],
        ),
        (
            """\
            projects:
              - project: x
                notify:
                  - {webhook: "https://hooks.example.org/x", secret: hook, on: [start, end]}
                  - {email: dev@example.org, webhook: "https://x.org"}
                  - email: nobody
                    when: sometimes
                    on: [middle]
                    secret: s
            """,
            [
                "hello.ick:5: notify 2 of project 'x': 'email' and 'webhook' together"
                " (give one per entry)",
                "hello.ick:6: notify 3 of project 'x': 'email' must be an address like"
                " dev@example.org, not 'nobody'",
                "hello.ick:7: notify 3 of project 'x': 'when' must be one of always,"
                " failure, change, not 'sometimes'",
                "hello.ick:8: notify 3 of project 'x': 'on' must be a list of started, ended,"
                " action_failed, deployment, approval, gate, not ['middle']",
                "hello.ick:9: notify 3 of project 'x': 'secret' goes only with 'webhook'",
            ],
        ),
        (
            """\
            projects:
              - project: x
                parameters:
                  released: 2024-01-01
                  fine: "2024-01-01"
                concurrent: yes
            """,
            [
                "hello.ick:4: project 'x': parameter 'released': 2024-01-01 is a date,"
                " not JSON data (quote it to make a string)",
                "hello.ick:6: project 'x': 'concurrent' must be true or false, not 'yes'",
            ],
        ),
        (
            """\
            pipelines:
              - pipeline: p
                actions:
                  - shell: one
                    where: host
                    shell: two
            """,
            ["hello.ick:6: key 'shell' given twice in one mapping"],
        ),
        (
            "- project: x\n",
            [
                "hello.ick:1: the top level must be a mapping with 'projects' and 'pipelines',"
                " not [{'project': 'x'}]",
            ],
        ),
    ],
)
def test_problems_name_file_line_and_rule(text: str, expected: list[str]) -> None:
    assert problems_of(text) == expected


def test_every_problem_is_reported_together_in_line_order() -> None:
    problems = problems_of("""\
        pipelines:
          - pipeline: build
            parameters: [greeting, 7]
            actions:
              - shell: [not, a, string]
                where: moon
                timeout: 0
              - archive: everything
                where: host
                globs: "*.deb"
        projects:
          - project: hello
            pipelines: [build]
            concurrent: 1
        """)
    assert problems == [
        "hello.ick:3: pipeline 'build': in 'parameters': a name must be a non-empty string, not 7",
        "hello.ick:5: action 1 of pipeline 'build': 'shell' must be a string (a bash snippet),"
        " not ['not', 'a', 'string']",
        "hello.ick:6: action 1 of pipeline 'build': 'where' must be one of host, chroot,"
        " container, not 'moon'",
        "hello.ick:7: action 1 of pipeline 'build': 'timeout' must be a positive number"
        " of seconds, not 0",
        "hello.ick:8: action 2 of pipeline 'build': 'archive' must be 'workspace' or 'systree',"
        " not 'everything'",
        "hello.ick:10: action 2 of pipeline 'build': 'globs' must be a list of glob patterns,"
        " not '*.deb'",
        "hello.ick:14: project 'hello': 'concurrent' must be true or false, not 1",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "projects:\n  - project: a: b\n",
            "hello.ick:2: invalid yaml: mapping values are not allowed here",
        ),
        (
            "projects:\n\t- x\n",
            "hello.ick:2: invalid yaml: found character '\\t' that cannot start any token",
        ),
        (
            'pipelines:\n  - pipeline: "a\n',
            "hello.ick:3: invalid yaml: found unexpected end of stream"
            " (while scanning a quoted scalar at line 2)",
        ),
        (
            "projects: []\n---\npipelines: []\n",
            "hello.ick:2: invalid yaml: but found another"
            " document (expected a single document in the stream at line 1)",
        ),
        (
            "projects:\n  - \x01\n",
            "hello.ick:2: invalid yaml: special characters are not allowed (character #x0001)",
        ),
    ],
)
def test_yaml_syntax_error_is_one_problem_with_its_line(text: str, expected: str) -> None:
    assert problems_of(text) == [expected]


def test_yaml_booleans_are_only_true_and_false() -> None:
    # YAML 1.1 reads `on:` as true and `yes` as a boolean; ick reads them as written.
    ickfile = load_ick_text(
        "projects:\n  - project: x\n    parameters: {answer: no}\n"
        "    notify: [{webhook: 'http://h/x', on: [start], when: change}]\n",
        "x.ick",
    )
    assert ickfile.projects[0].parameters == {"answer": "no"}
    assert ickfile.projects[0].notify == [
        {"webhook": "http://h/x", "when": "change", "on": ["started"]}
    ]


def test_a_problem_inside_an_alias_points_at_its_use() -> None:
    problems = problems_of("""\
        pipelines:
          - pipeline: a
            actions: [&step {shell: ok, where: host}]
          - pipeline: b
            actions:
              - <<: *step
                where: nowhere
        """)
    assert problems == [
        "hello.ick:7: action 1 of pipeline 'b': 'where' must be one of host, chroot, container,"
        " not 'nowhere'",
    ]


def test_unreadable_file(tmp_path: Path) -> None:
    path = str(tmp_path / "missing.ick")
    with pytest.raises(IckFileError) as info:
        load_ick_file(path)
    assert info.value.problems == [f"{path}: cannot read: no such file or directory"]


def test_file_on_disk_is_named_in_problems(tmp_path: Path) -> None:
    path = tmp_path / "x.ick"
    path.write_text("projects:\n  - project: x\n    concurrent: maybe\n")
    with pytest.raises(IckFileError) as info:
        load_ick_file(str(path))
    assert info.value.problems == [
        f"{path}:3: project 'x': 'concurrent' must be true or false, not 'maybe'"
    ]


REFERENCES = """\
projects:
  - project: hello
    parameters: {greeting: hi}
    pipelines: [hello, build, deploy]
  - project: quiet
    pipelines: [hello]
pipelines:
  - pipeline: hello
    parameters: [greeting]
    actions: []
"""


def test_references_are_checked_against_file_and_server_pipelines() -> None:
    ickfile = load_ick_text(REFERENCES, "hello.ick")
    on_server = {
        "build": Pipeline("build", ["target"]),
        "hello": Pipeline("hello", []),  # the file's pipeline replaces this one
    }
    assert ickfile.reference_problems(on_server) == [
        "hello.ick:2: project 'hello' does not give parameter 'target'"
        " that pipeline 'build' requires",
        "hello.ick:2: project 'hello' names pipeline 'deploy', which does not exist",
        "hello.ick:5: project 'quiet' does not give parameter 'greeting'"
        " that pipeline 'hello' requires",
    ]


def test_check_references_without_places() -> None:
    projects = [Project("p", {"a": 1}, ["x", "y", "x"])]
    pipelines = {"x": Pipeline("x", ["a", "b"])}
    assert check_references(projects, pipelines) == [
        "project 'p' does not give parameter 'b' that pipeline 'x' requires",
        "project 'p' names pipeline 'y', which does not exist",
    ]
    assert check_references([Project("q", {"b": 0, "a": None}, ["x"])], pipelines) == []


def test_project_document_round_trips() -> None:
    doc = {
        "project": "liw/website",
        "parameters": {"n": [1, {"k": None}]},
        "pipelines": ["build"],
        "notify": [{"webhook": "https://h.example/x", "secret": "hook"}],
        "concurrent": True,
    }
    project = project_from_doc(doc, "PUT /projects/liw/website")
    assert project == Project(
        "liw/website",
        {"n": [1, {"k": None}]},
        ["build"],
        [{"webhook": "https://h.example/x", "when": "always", "on": ["ended"],
          "secret": "hook"}],
        True,
    )
    assert project_from_doc(project.to_doc(), "again") == project


def test_project_document_problems_are_prefixed_with_where() -> None:
    with pytest.raises(IckFileError) as info:
        project_from_doc({"project": "x", "pipelines": "build", "colour": "red"}, "body")
    assert info.value.problems == [
        "body: project 'x': unknown key 'colour'"
        " (expected one of: branches, cancel_superseded, concurrent, environments,"
        " extra_parameters, fail_fast, forge, gate, keep_builds, keep_days, keep_deployments,"
        " matrix, notify, parameters, pipelines,"
        " poll, project, repository_pipelines, schedule, tags, trigger_parameters, triggers,"
        " trust_changes, trust_repository, worker)",
        "body: project 'x': 'pipelines' must be a list of names, not 'build'",
    ]
    with pytest.raises(IckFileError) as info:
        project_from_doc(["x"], "body")
    assert info.value.problems == [
        "body: project must be a mapping with a 'project' key, not ['x']"
    ]


def test_pipeline_document() -> None:
    actions: list[dict[str, object]] = [{"shell": "true", "where": "host"}]
    doc = {"pipeline": "p", "parameters": ["a"], "actions": actions}
    assert pipeline_from_doc(doc, "body") == Pipeline("p", ["a"], actions,
                                                      traits=(ActionTraits("shell"),))
    with pytest.raises(IckFileError) as info:
        pipeline_from_doc({"actions": [{"python": 1, "where": "host", "secrets": ["../x"]}]}, "b")
    assert info.value.problems == [
        "b: pipeline: missing 'pipeline' (the pipeline's name)",
        "b: action 1 of pipeline: 'python' must be a string (a python snippet), not 1",
        "b: action 1 of pipeline: 'secrets' must be a list of secret names"
        " (letters, digits, '.', '_' and '-'), not ['../x']",
    ]
    assert str(info.value).startswith("b: pipeline: missing 'pipeline'")


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"shell": "x", "where": "host"}, []),
        ("shell: x", ["a: an action must be a mapping, not 'shell: x'"]),
        (
            {"shell": "x", "python": "y", "where": "host"},
            ["a: more than one action type: 'shell', 'python'"],
        ),
        (
            {"action": 3, "where": "host"},
            [
                "a: unknown action 3 (expected one of: populate_systree,"
                " populate_workspace, git, git_mirror, rsync, apt_publish, dput)"
            ],
        ),
        (
            {"action": "shell", "where": "host"},
            [
                "a: unknown action 'shell' (expected one of:"
                " populate_systree, populate_workspace, git, git_mirror, rsync, apt_publish, dput)"
            ],
        ),
        (
            {"action": "rsync", "where": "chroot", "ssh_port": "22", "ssh_key_secret": "a/b"},
            [
                "a: rsync cannot run where: chroot (only host)",
                "a: 'ssh_port' must be a port number from 1 to 65535, not '22'",
                "a: 'ssh_key_secret' must be a secret name (letters, digits, '.', '_' and '-';"
                " at most 64 characters), not 'a/b'",
            ],
        ),
        (
            {"action": "git_mirror", "where": "host", "sources": [{"name": "x"}]},
            [
                "a: 'sources' must be a list of mappings with 'name', 'repo' and optionally 'ref'"
                " and 'location' (strings), not [{'name': 'x'}]"
            ],
        ),
        (
            # No runner yet, so `ick apply` refuses it like any unknown action.
            {"action": "deploy", "where": "host", "environment": "prod"},
            [
                "a: unknown action 'deploy' (expected one of: populate_systree,"
                " populate_workspace, git, git_mirror, rsync, apt_publish, dput)",
                "a: unknown key 'environment'",
            ],
        ),
        (
            {"shell": "x", "where": "host", "timeout": True, "network": 1, "name": None},
            [
                "a: 'timeout' must be a positive number of seconds, not true",
                "a: 'network' must be true or false, not 1",
                "a: 'name' must be a string, not null",
            ],
        ),
    ],
)
def test_validate_action(doc: object, expected: list[str]) -> None:
    assert validate_action(doc, "a") == expected


def test_values_that_aliases_blow_up_or_loop_are_refused() -> None:
    text = "projects:\n  - project: x\n    parameters:\n      a0: &a0 [x, x, x, x, x, x, x, x]\n"
    for i in range(1, 7):
        text += f"      a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 8)}]\n"
    text += "      loop: &loop [*loop]\n"
    problems = problems_of(text)
    assert problems[0] == (
        "hello.ick:9: project 'x': parameter 'a5': more than 100000 values once aliases"
        " are expanded"
    )
    assert (
        problems[-1]
        == "hello.ick:11: project 'x': parameter 'loop': a value must not contain itself"
    )


def test_running_for_months_keys_are_read() -> None:
    ickfile = load_ick_text(textwrap.dedent("""\
        projects:
          - project: nightly
            pipelines: []
            keep_builds: 10
            keep_days: 7.5
            schedule: "0 3 * * *"
            poll: 300
            triggers: [hello, liw/site]
            extra_parameters: true
        pipelines:
          - pipeline: e
            actions:
              - shell: echo "$GREETING"
                where: host
                env: {GREETING: "$HOME is not expanded", _X1: ""}
        """), "m.ick")
    project = ickfile.projects[0]
    assert (project.keep_builds, project.keep_days, project.schedule, project.poll,
            project.triggers, project.extra_parameters) == (
        10, 7.5, "0 3 * * *", 300, ["hello", "liw/site"], True)
    assert project.to_doc()["schedule"] == "0 3 * * *"
    assert "schedule" not in Project("plain").to_doc()
    assert ickfile.pipelines[0].actions[0]["env"]["GREETING"] == "$HOME is not expanded"


def test_running_for_months_keys_are_checked_with_their_lines() -> None:
    with pytest.raises(IckFileError) as info:
        load_ick_text(textwrap.dedent("""\
            projects:
              - project: bad
                keep_builds: 0
                keep_days: -1
                schedule: "0 3 * *"
                poll: 0.5
                triggers: [bad, "no good"]
                extra_parameters: "yes"
            pipelines:
              - pipeline: e
                actions:
                  - shell: "true"
                    where: host
                    env: {ICK_PARAMS: x}
                  - shell: "true"
                    where: host
                    env: [A]
            """), "m.ick")
    assert info.value.problems == [
        "m.ick:3: project 'bad': 'keep_builds' must be a whole number of at least 1, not 0",
        "m.ick:4: project 'bad': 'keep_days' must be a positive number of days, not -1",
        "m.ick:5: project 'bad': 'schedule': expected five cron fields (minute hour day month"
        " weekday), like \"0 3 * * *\", not '0 3 * *'",
        "m.ick:6: project 'bad': 'poll' must be a number of seconds from 1 to 31622400,"
        " not 0.5",
        "m.ick:7: project 'bad': in 'triggers': bad name 'no good': use letters, digits, '.',"
        " '_', '-' and '/'",
        "m.ick:7: project 'bad': 'triggers' must not name the project itself (its builds"
        " would never end)",
        "m.ick:8: project 'bad': 'extra_parameters' must be true or false, not 'yes'",
        "m.ick:14: action 1 of pipeline 'e': 'env' must be a mapping of variable names"
        " (letters, digits, '_'; not ICK_*) to strings without NUL, not {'ICK_PARAMS': 'x'}",
        "m.ick:17: action 2 of pipeline 'e': 'env' must be a mapping of variable names"
        " (letters, digits, '_'; not ICK_*) to strings without NUL, not ['A']",
    ]
