"""`repository_pipelines:` and `trust_repository:` as `ick apply` checks them: a relative
path in the repository, and the project's pipelines may be ones only its repository has."""

from __future__ import annotations

import textwrap

from ick.ickfile import read_ick_text


def read(text: str) -> tuple[list[str], list[str]]:
    ickfile, problems = read_ick_text(textwrap.dedent(text), "hello.ick")
    return problems, ickfile.reference_problems()


def test_a_project_may_name_pipelines_its_repository_will_have() -> None:
    ickfile, problems = read_ick_text(textwrap.dedent("""\
        projects:
          - project: hello
            pipelines: [build]
            repository_pipelines: ci/pipelines.yaml
            trust_repository: true
        """), "hello.ick")
    assert problems == [] and ickfile.reference_problems() == []
    [project] = ickfile.projects
    assert (project.repository_pipelines, project.trust_repository) == (
        "ci/pipelines.yaml", True)
    assert project.to_doc()["repository_pipelines"] == "ci/pipelines.yaml"


def test_the_path_stays_in_the_repository() -> None:
    for bad in ("/etc/passwd", "../x.yaml", "a//b", "./x"):
        problems, _ = read(f"""\
            projects:
              - project: hello
                pipelines: [build]
                repository_pipelines: "{bad}"
                trust_repository: 1
            """)
        assert problems == [
            f"hello.ick:4: project 'hello': 'repository_pipelines' must be a relative path in "
            f"the repository, without '.', '..' or control characters, not '{bad}'",
            "hello.ick:5: project 'hello': 'trust_repository' must be true or false, not 1"]
