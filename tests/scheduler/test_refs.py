"""Which pushed refs a project builds, and when two builds are of the same ref (pure)."""

from __future__ import annotations

import pytest

from ick.model import GitFacts, Project
from ick.scheduler.refs import ref_problem, same_ref

DEFAULT = Project("hello")
RELEASES = Project("hello", branches=["main", "release/*"], tags=["v*"])


@pytest.mark.parametrize(("project", "ref", "problem"), [
    (DEFAULT, "refs/heads/main", None),
    (DEFAULT, "refs/heads/feature/x", None),  # `*` is every branch, slashes and all
    (DEFAULT, "refs/tags/v1", "project 'hello' does not build tag 'v1' (tags: none)"),
    (DEFAULT, None, None),  # a poll of the remote's HEAD: nothing to filter by
    (RELEASES, "refs/heads/release/1.x", None),
    (RELEASES, "main", None),  # a bare name is a branch
    (RELEASES, "refs/heads/feature/x",
     "project 'hello' does not build branch 'feature/x' (branches: main, release/*)"),
    (RELEASES, "refs/tags/v1.0", None),
    (RELEASES, "refs/tags/nightly", "project 'hello' does not build tag 'nightly' (tags: v*)"),
    (RELEASES, "refs/pull/7/head", None),  # neither a branch nor a tag
    (Project("hello", branches=[]), "refs/heads/main",
     "project 'hello' does not build branch 'main' (branches: none)"),
])
def test_ref_problem(project: Project, ref: str | None, problem: str | None) -> None:
    assert ref_problem(project, GitFacts.of_ref(ref)) == problem


@pytest.mark.parametrize(("built", "pushed", "same"), [
    ("refs/heads/main", "refs/heads/main", True),
    ("main", "refs/heads/main", True),
    ("refs/heads/main", "refs/heads/feature", False),
    ("refs/tags/v1", "refs/heads/v1", False),  # a tag and a branch of one name
    ("refs/tags/v1", "v1", False),
    ("refs/tags/v1", "refs/tags/v1", True),
    (None, "refs/heads/main", True),  # a poll of HEAD built whatever HEAD was
    ("refs/heads/main", None, True),
    ("refs/pull/7/head", "refs/pull/7/head", True),
    ("refs/pull/7/head", "refs/pull/8/head", False),
])
def test_same_ref(built: str | None, pushed: str | None, same: bool) -> None:
    assert same_ref(GitFacts.of_ref(built), GitFacts.of_ref(pushed)) is same
