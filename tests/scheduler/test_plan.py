"""Trigger planning (ick/scheduler/plan.py): a pure function, tested by table."""

from __future__ import annotations

from typing import Any

import pytest

from ick.errors import ConflictError, InputError
from ick.model import Pipeline, Project
from ick.scheduler.plan import plan_build

BUILD = Pipeline("build", ["compiler"], [{"shell": "make", "where": "host"},
                                         {"action": "git", "where": "host"}])
TEST = Pipeline("test", [], [{"python": "pass", "where": "container"}])


@pytest.mark.parametrize(
    ("project", "overrides", "parameters", "actions"),
    [
        (Project("p", {"compiler": "gcc"}, ["build"]), {}, {"compiler": "gcc"},
         [("build", 0, "shell", "host"), ("build", 1, "git", "host")]),
        (Project("p", {"compiler": "gcc", "x": 1}, ["build", "test"]), {"compiler": "clang"},
         {"compiler": "clang", "x": 1},
         [("build", 0, "shell", "host"), ("build", 1, "git", "host"),
          ("test", 0, "python", "container")]),
        (Project("p", {}, ["build"]), {"compiler": "tcc"}, {"compiler": "tcc"},
         [("build", 0, "shell", "host"), ("build", 1, "git", "host")]),
        (Project("p", {}, []), {"a": [1]}, {"a": [1]}, []),
        (Project("p", {}, ["test", "test"]), {}, {},
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
