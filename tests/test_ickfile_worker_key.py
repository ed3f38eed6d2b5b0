"""`worker: {LABEL: VALUE}` on projects, pipelines and actions: read, checked, kept."""

from __future__ import annotations

import textwrap

from ick.ickfile import load_ick_text
from tests.test_ickfile import problems_of

RULE = ("a mapping of worker labels to values, like {arch: arm64} (label names and values: "
        "letters, digits, '.', '_', '-')")


def test_worker_requirements_are_read_at_every_level() -> None:
    loaded = load_ick_text(textwrap.dedent("""\
        projects:
          - project: x
            pipelines: [p]
            worker: {arch: arm64}
        pipelines:
          - pipeline: p
            worker: {kvm: yes}
            actions:
              - shell: "true"
                where: host
                worker: {host: builder2, cores: 8}
        """), "hello.ick")
    assert loaded.projects[0].worker == {"arch": "arm64"}
    assert loaded.pipelines[0].worker == {"kvm": "yes"}
    assert loaded.pipelines[0].actions[0]["worker"] == {"host": "builder2", "cores": 8}
    assert loaded.projects[0].to_doc()["worker"] == {"arch": "arm64"}


def test_bad_worker_requirements_name_file_line_and_rule() -> None:
    assert problems_of("""\
        projects:
          - project: x
            pipelines: []
            worker: arm64
        pipelines:
          - pipeline: p
            worker: {kvm: true}
            actions:
              - shell: "true"
                where: host
                worker: {"a b": c}
        """) == [
        f"hello.ick:4: project 'x': 'worker' must be {RULE}, not 'arm64'",
        f"hello.ick:7: pipeline 'p': 'worker' must be {RULE}, not {{'kvm': True}}",
        f"hello.ick:11: action 1 of pipeline 'p': 'worker' must be {RULE}, not {{'a b': 'c'}}",
    ]
