"""Planning takes each action's kind and needs from its pipeline's traits, decided when the
pipeline was checked (ick/scheduler/plan.py): it never works a kind out of a document."""

from __future__ import annotations

import pytest

from ick.errors import IckError
from ick.model import ActionTraits, Pipeline, Project
from ick.scheduler.plan import plan_build
from ick.scheduler.routing import Needs, needs_of


def test_each_action_carries_its_pipelines_traits() -> None:
    # Traits that do not match the documents' spelling show whose word counts.
    pipeline = Pipeline("pl", [], [{"shell": "true", "where": "host"}, {"action": "x"}],
                        traits=(ActionTraits("deploy", local=True),
                                ActionTraits("qemu", arch_key="cpu")))
    plan = plan_build(Project("p", {}, ["pl"], matrix={"n": [1, 2]}), {"pl": pipeline}, {},
                      check=False)
    assert [(a.job, a.kind, a.local, a.arch_key) for a in plan.actions] == [
        (0, "deploy", True, None), (0, "qemu", False, "cpu"),
        (1, "deploy", True, None), (1, "qemu", False, "cpu")]
    assert plan.actions[0].traits == ActionTraits("deploy", local=True)
    spec = {**plan.actions[1].spec, "cpu": "s390x"}
    assert needs_of([(a.traits, spec) for a in plan.actions[:2]]) == Needs(
        {"arch": "s390x"}, True, "deploy")


@pytest.mark.parametrize("traits", [None, (ActionTraits("shell"),)])
def test_a_pipeline_whose_traits_were_not_decided_is_refused(
        traits: tuple[ActionTraits, ...] | None) -> None:
    pipeline = Pipeline("pl", [], [{"shell": "a", "where": "host"},
                                   {"shell": "b", "where": "host"}], traits=traits)
    with pytest.raises(IckError) as e:
        plan_build(Project("p", {}, ["pl"]), {"pl": pipeline}, {})
    assert e.value.message == ("pipeline 'pl' has not been checked: its actions' types are "
                               "not known")


def test_a_pipeline_without_actions_needs_no_traits() -> None:
    plan = plan_build(Project("p", {}, ["pl"]), {"pl": Pipeline("pl")}, {})
    assert plan.actions == []
