"""Trigger planning (ick/scheduler/plan.py): a pure function, tested by table."""

from __future__ import annotations

from typing import Any

import pytest

from ick.errors import ConflictError, InputError
from ick.model import Project
from ick.scheduler.plan import plan_build
from tests.pipelines import checked

API = {"ick_trigger": "api", "ick_event": "manual"}
BUILD = checked("build", ["compiler"], [{"shell": "make", "where": "host"},
                                        {"action": "git", "where": "host"}])
TEST = checked("test", [], [{"python": "pass", "where": "container"}])


@pytest.mark.parametrize(
    ("project", "overrides", "parameters", "actions"),
    [
        (Project("p", {"compiler": "gcc"}, ["build"]), {}, {"compiler": "gcc", **API},
         [("build", 0, "shell", "host"), ("build", 1, "git", "host")]),
        (Project("p", {"compiler": "gcc", "x": 1}, ["build", "test"]), {"compiler": "clang"},
         {"compiler": "clang", "x": 1, **API},
         [("build", 0, "shell", "host"), ("build", 1, "git", "host"),
          ("test", 0, "python", "container")]),
        # a parameter a pipeline requires is known, though the project does not set it
        (Project("p", {}, ["build"]), {"compiler": "tcc"}, {"compiler": "tcc", **API},
         [("build", 0, "shell", "host"), ("build", 1, "git", "host")]),
        (Project("p", {}, [], extra_parameters=True), {"a": [1]}, {"a": [1], **API}, []),
        # a matrix axis is known too
        (Project("p", {}, [], matrix={"arch": ["amd64", "arm64"]}), {"arch": "amd64"},
         {"arch": "amd64", **API}, []),
        # what the hook and polls send is known to every project
        (Project("p", {}, []), {"git_ref": "main", "git_commit": "abc"},
         {"git_ref": "main", "git_commit": "abc", **API}, []),
        (Project("p", {}, ["test", "test"]), {}, {**API},
         [("test", 0, "python", "container"), ("test", 0, "python", "container")]),
    ],
)
def test_plans(project: Project, overrides: dict[str, Any], parameters: dict[str, Any],
               actions: list[tuple[str, int, str, str]]) -> None:
    plan = plan_build(project, {"build": BUILD, "test": TEST}, overrides)
    assert plan.parameters == parameters
    assert [(a.pipeline, a.index, a.kind, a.where) for a in plan.actions] == actions
    assert all(a.state.value == "pending" for a in plan.actions)


@pytest.mark.parametrize(
    ("project", "error", "message"),
    [
        (Project("p", {}, ["build"]), InputError,
         "pipeline 'build' requires parameter 'compiler', which project 'p' does not give"),
        (Project("p", {}, ["gone"]), ConflictError,
         "project 'p' names pipeline 'gone', which does not exist"),
    ],
)
def test_refusals(project: Project, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        plan_build(project, {"build": BUILD, "gone": None}, {})
    assert str(getattr(caught.value, "message", caught.value)) == message


def test_an_unknown_parameter_is_refused_unless_unchecked() -> None:
    project = Project("p", {"x": 1}, ["build"])
    with pytest.raises(InputError) as caught:
        plan_build(project, {"build": BUILD}, {"compiler": "cc", "nosuch": 1})
    assert caught.value.message == (
        "project 'p' has no parameter 'nosuch' (known: compiler, git_commit, git_ref, "
        "ick_trigger, x; a project with extra_parameters: true takes any)")
    plan = plan_build(project, {"build": BUILD}, {"compiler": "cc", "nosuch": 1},
                      ick_trigger="rebuild", check=False)
    assert plan.parameters == {"x": 1, "compiler": "cc", "nosuch": 1,
                               "ick_trigger": "rebuild", "ick_event": "manual"}
