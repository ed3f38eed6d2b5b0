"""Which pushed refs are gate candidates (ick/scheduler/refs.py, gate_ref)."""

from __future__ import annotations

from ick.model import GitFacts, Project
from ick.scheduler.refs import gate_ref

GATED = Project("p", gate={"branch": "main"})


def test_a_push_to_gate_target_name_is_a_candidate_of_a_gated_project() -> None:
    assert gate_ref(GATED, GitFacts.of_ref("refs/heads/gate/main/fix-typo")) == \
        ("main", "fix-typo")
    assert gate_ref(GATED, GitFacts.of_ref("refs/heads/gate/main/a/b")) == ("main", "a/b")
    assert gate_ref(Project("p", gate={"branch": "release/1"}),
                    GitFacts.of_ref("refs/heads/gate/release/1/x")) == ("release/1", "x")


def test_other_refs_and_projects_without_a_gate_have_none() -> None:
    for ref in ("refs/heads/main", "refs/heads/gate/main", "refs/heads/gate/main/",
                "refs/heads/gate/dev/x", "refs/tags/gate/main/x", "refs/heads/gate/mainx/y",
                "refs/heads/gate/main/a\nb", "refs/heads/gate/main/a b",
                "refs/heads/gate/main/a/../b"):
        assert gate_ref(GATED, GitFacts.of_ref(ref)) is None, ref
    assert gate_ref(Project("p"), GitFacts.of_ref("refs/heads/gate/main/x")) is None
