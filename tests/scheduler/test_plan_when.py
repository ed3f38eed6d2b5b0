"""`when:` at plan time (ick/scheduler/plan.py): an action whose condition (its own, its
pipeline's, or its project entry's) does not hold for the build's event, branch, tag or its
job's parameters is planned skipped, saying which key did not hold."""

from __future__ import annotations

from typing import Any

import pytest

from ick.model import NO_GIT, ActionState, GitFacts, Pipeline, Project
from ick.scheduler.plan import NO_STATUS, plan_build
from tests.pipelines import checked

MAIN = GitFacts.of_ref("refs/heads/main", "a" * 40)
FEATURE = GitFacts.of_ref("refs/heads/feat/x", "b" * 40)
TAG = GitFacts.of_ref("refs/tags/v1.0", "c" * 40)


def shell(name: str, when: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"shell": name, "where": "host", **({"when": when} if when is not None else {})}


def outcome(project: Project, pipelines: list[Pipeline], event: str = "push",
            git: GitFacts = MAIN, overrides: dict[str, Any] | None = None,
            ) -> list[tuple[int, str, str | None]]:
    """(job, the action's shell, None if it runs or the message it is skipped with)."""
    plan = plan_build(project, {p.name: p for p in pipelines}, overrides or {},
                      ick_trigger="hook", event=event, git=git)
    for a in plan.actions:
        assert (a.state is ActionState.SKIPPED) == (a.message is not None)
    return [(a.job, a.spec["shell"], a.message) for a in plan.actions]


# one key of each kind, at the level of an action --------------------------------------


@pytest.mark.parametrize(("when", "event", "git", "miss"), [
    ({"event": "push"}, "push", MAIN, None),
    ({"event": ["tag", "change"]}, "push", MAIN, "when: event is 'push', not one of 'tag', "
                                                 "'change'"),
    ({"event": "manual"}, "manual", NO_GIT, None),
    ({"branch": "main"}, "push", MAIN, None),
    ({"branch": "main"}, "push", FEATURE, "when: branch is 'feat/x', not 'main'"),
    ({"branch": ["main", "feat/*"]}, "push", FEATURE, None),
    ({"branch": "*"}, "tag", TAG, "when: branch is none, not '*'"),
    ({"branch": "*"}, "manual", NO_GIT, "when: branch is none, not '*'"),
    ({"tag": "v*"}, "tag", TAG, None),
    ({"tag": ["v2.*", "release-*"]}, "tag", TAG, "when: tag is 'v1.0', not one of 'v2.*', "
                                                 "'release-*'"),
    ({"tag": "*"}, "push", MAIN, "when: tag is none, not '*'"),
    ({"event": "tag", "tag": "v*"}, "tag", TAG, None),
    ({"event": "push", "branch": "main"}, "push", FEATURE,
     "when: branch is 'feat/x', not 'main'"),
])
def test_each_key_on_an_action(when: dict[str, Any], event: str, git: GitFacts,
                               miss: str | None) -> None:
    project = Project("p", {}, ["build"])
    build = checked("build", [], [shell("make"), shell("publish", when), shell("tidy")])
    assert outcome(project, [build], event, git) == [
        (0, "make", None), (0, "publish", miss), (0, "tidy", None)]


def test_parameters_hold_per_job_of_a_matrix() -> None:
    project = Project("p", {"mode": "fast"}, ["build"],
                      matrix={"arch": ["amd64", "arm64"], "debug": [True, False]})
    build = checked("build", [], [
        shell("make"),
        shell("amd64 only", {"parameters": {"arch": "amd64"}}),
        shell("arm64 debug", {"parameters": {"arch": ["arm64"], "debug": True}}),
        shell("fast or slow", {"parameters": {"mode": ["fast", "slow"]}}),
        shell("slow", {"parameters": {"mode": "slow"}}),
    ])
    # jobs in matrix order: (amd64, true), (amd64, false), (arm64, true), (arm64, false)
    got = outcome(project, [build])
    assert [(job, name) for job, name, miss in got if miss is None] == [
        (0, "make"), (0, "amd64 only"), (0, "fast or slow"),
        (1, "make"), (1, "amd64 only"), (1, "fast or slow"),
        (2, "make"), (2, "arm64 debug"), (2, "fast or slow"),
        (3, "make"), (3, "fast or slow"),
    ]
    messages = {(job, name): miss for job, name, miss in got if miss is not None}
    assert messages[(0, "arm64 debug")] == \
        "when: parameter 'arch' is 'amd64', not one of 'arm64'"
    assert messages[(3, "arm64 debug")] == "when: parameter 'debug' is false, not true"
    assert messages[(2, "amd64 only")] == "when: parameter 'arch' is 'arm64', not 'amd64'"
    assert messages[(1, "slow")] == "when: parameter 'mode' is 'fast', not 'slow'"


def test_a_trigger_s_parameters_count_too() -> None:
    project = Project("p", {"mode": "fast"}, ["build"])
    build = checked("build", ["mode"], [shell("slow", {"parameters": {"mode": "slow"}})])
    assert outcome(project, [build], overrides={"mode": "slow"}) == [(0, "slow", None)]
    assert outcome(project, [build]) == [
        (0, "slow", "when: parameter 'mode' is 'fast', not 'slow'")]


# the other two levels ------------------------------------------------------------------


def test_a_pipeline_s_condition_skips_each_of_its_actions() -> None:
    project = Project("p", {}, ["build", "publish"])
    build = checked("build", [], [shell("make")])
    publish = checked("publish", [], [shell("upload"), shell("announce")])
    publish.when = {"branch": "main", "event": "push"}
    assert outcome(project, [build, publish], "push", MAIN) == [
        (0, "make", None), (0, "upload", None), (0, "announce", None)]
    miss = "when: branch is 'feat/x', not 'main'"
    assert outcome(project, [build, publish], "push", FEATURE) == [
        (0, "make", None), (0, "upload", miss), (0, "announce", miss)]
    assert outcome(project, [build, publish], "manual", MAIN) == [
        (0, "make", None), (0, "upload", "when: event is 'manual', not 'push'"),
        (0, "announce", "when: event is 'manual', not 'push'")]


def test_a_project_entry_s_condition_skips_its_pipeline_there() -> None:
    build = checked("build", [], [shell("make")])
    release = checked("release", [], [shell("sign")])
    project = Project("p", {}, ["build", {"pipeline": "release", "when": {"tag": "v*"}}])
    assert outcome(project, [build, release], "tag", TAG) == [
        (0, "make", None), (0, "sign", None)]
    assert outcome(project, [build, release], "push", MAIN) == [
        (0, "make", None), (0, "sign", "when: tag is none, not 'v*'")]


def test_one_pipeline_twice_under_different_conditions() -> None:
    deploy = checked("deploy", [], [shell("deploy")])
    project = Project("p", {}, [{"pipeline": "deploy", "when": {"branch": "main"}},
                                {"pipeline": "deploy", "when": {"event": "tag"}}])
    assert outcome(project, [deploy], "tag", TAG) == [
        (0, "deploy", "when: branch is none, not 'main'"), (0, "deploy", None)]


def test_every_level_must_hold_the_outermost_named_first() -> None:
    publish = checked("publish", [], [shell("upload", {"parameters": {"arch": "amd64"}})])
    publish.when = {"event": "push"}
    project = Project("p", {"arch": "arm64"}, [{"pipeline": "publish",
                                                "when": {"branch": "main"}}])
    assert outcome(project, [publish], "tag", TAG) == [
        (0, "upload", "when: branch is none, not 'main'")]
    assert outcome(project, [publish], "manual", MAIN) == [
        (0, "upload", "when: event is 'manual', not 'push'")]
    assert outcome(project, [publish], "push", MAIN) == [
        (0, "upload", "when: parameter 'arch' is 'arm64', not 'amd64'")]
    assert outcome(project, [publish], "push", MAIN, {"arch": "amd64"}) == [
        (0, "upload", None)]


# status: carried to the machine in the planned spec ------------------------------------


def test_the_levels_statuses_go_into_the_action_s_spec() -> None:
    cleanup = checked("cleanup", [], [
        shell("remove"),
        shell("always", {"status": ["success", "failure"]}),
        shell("on success", {"status": "success", "branch": "main"}),
    ])
    cleanup.when = {"status": "failure"}
    build = checked("build", [], [shell("make"), shell("reports", {"status": ["failure",
                                                                              "success"]})])
    project = Project("p", {}, ["build", "cleanup"])
    plan = plan_build(project, {"build": build, "cleanup": cleanup}, {}, event="push", git=MAIN)
    assert [(a.spec["shell"], a.spec.get("when"), a.state.value, a.message)
            for a in plan.actions] == [
        ("make", None, "pending", None),
        ("reports", {"status": ["success", "failure"]}, "pending", None),
        ("remove", {"status": ["failure"]}, "pending", None),
        ("always", {"status": ["failure"]}, "pending", None),
        ("on success", {"status": [], "branch": "main"}, "skipped", NO_STATUS),
    ]
    # what was stored stays as written
    assert cleanup.actions[1]["when"] == {"status": ["success", "failure"]}



@pytest.mark.parametrize("level", ["action", "pipeline", "entry"])
@pytest.mark.parametrize(("when", "event", "git", "miss"), [
    ({"event": "tag"}, "push", MAIN, "when: event is 'push', not 'tag'"),
    ({"event": ["push"]}, "push", MAIN, None),
    ({"branch": "release/*"}, "push", MAIN, "when: branch is 'main', not 'release/*'"),
    ({"branch": "ma*"}, "push", MAIN, None),
    ({"tag": ["v*"]}, "push", MAIN, "when: tag is none, not one of 'v*'"),
    ({"tag": ["v*"]}, "tag", TAG, None),
    ({"parameters": {"arch": "arm64"}}, "push", MAIN,
     "when: parameter 'arch' is 'amd64', not 'arm64'"),
    ({"parameters": {"arch": ["arm64", "amd64"]}}, "push", MAIN, None),
])
def test_every_key_at_every_level(level: str, when: dict[str, Any], event: str,
                                  git: GitFacts, miss: str | None) -> None:
    publish = checked("publish", [], [shell("publish", when if level == "action" else None)])
    if level == "pipeline":
        publish.when = when
    entry: str | dict[str, Any] = {"pipeline": "publish", "when": when} \
        if level == "entry" else "publish"
    project = Project("p", {"arch": "amd64"}, [entry])
    assert outcome(project, [publish], event, git) == [(0, "publish", miss)]
