"""Planning an untrusted change: which builds are (a forge's change the project does not
trust), and each action breaking a rule carries it, for the dispatcher to fail it with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ick.model import Project
from ick.scheduler.plan import REFUSED, plan_build, refuse_untrusted, untrusted
from tests.pipelines import checked


def no_host(kind: str, spec: Mapping[str, Any], parameters: Mapping[str, Any]) -> str | None:
    return f"{kind} on {spec['where']} for {parameters['who']}" if spec["where"] == "host" \
        else None


def test_only_a_forge_s_change_of_a_project_that_does_not_trust_changes_is_untrusted() -> None:
    assert untrusted(Project("p"), "change", "forge")
    assert not untrusted(Project("p", trust_changes=True), "change", "forge")
    assert not untrusted(Project("p"), "push", "forge")
    assert not untrusted(Project("p"), "change", "gate")  # ick's own merge candidates


def test_refused_actions_carry_their_rule_in_every_job() -> None:
    pipeline = checked("p", [], [{"shell": "a", "where": "host"},
                                 {"shell": "b", "where": "container"}])
    project = Project("hello", {"who": "x"}, ["p"], matrix={"who": ["ann", "bob"]})
    plan = refuse_untrusted(plan_build(project, {"p": pipeline}, {}), no_host)
    assert [(a.job, a.spec.get(REFUSED)) for a in plan.actions] == [
        (0, "untrusted change: shell on host for ann"), (0, None),
        (1, "untrusted change: shell on host for bob"), (1, None)]
