"""`matrix:` and `fail_fast:` in .ick files: problems with FILE:LINE, and the jobs a good one
makes (by trigger planning)."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from ick.errors import IckFileError, InputError
from ick.ickfile import load_ick_text
from ick.matrix import MAX_JOBS, expand
from ick.model import Project
from ick.scheduler.plan import plan_build
from tests.pipelines import checked


def problems_of(text: str) -> list[str]:
    with pytest.raises(IckFileError) as info:
        load_ick_text(textwrap.dedent(text), "m.ick")
    return info.value.problems


@pytest.mark.parametrize(("matrix", "expected"), [
    ("{debian_arch: []}", "m.ick:4: project 'p': matrix: axis 'debian_arch' is empty "
                          "(give it at least one value, or leave it out)"),
    ("{debian_arch: arm64}", "m.ick:4: project 'p': matrix: axis 'debian_arch' must be a "
                             "list of values, not 'arm64'"),
    ("{}", "m.ick:4: project 'p': 'matrix' must be a mapping of parameter names to lists of "
           "values (each combination is a job), or a list of parameter mappings (one job "
           "each), not an empty mapping"),
    ("[{a: 1}, 2]", "m.ick:4: project 'p': matrix: job 2 must be a mapping of parameter "
                    "names to values, not 2"),
    ("[]", "m.ick:4: project 'p': 'matrix' must be a mapping of parameter names to lists of "
           "values (each combination is a job), or a list of parameter mappings (one job "
           "each), not an empty list"),
    ("arm64", "m.ick:4: project 'p': 'matrix' must be a mapping of parameter names to lists "
              "of values (each combination is a job), or a list of parameter mappings (one "
              "job each), not 'arm64'"),
    ("{a: [1, 2, 3, 4, 5, 6, 7, 8], b: [1, 2, 3, 4, 5, 6, 7, 8, 9]}",
     f"m.ick:4: project 'p': matrix: 72 jobs is more than {MAX_JOBS} in one build"),
])
def test_bad_matrices_are_refused_with_file_line_and_rule(matrix: str, expected: str) -> None:
    assert problems_of(f"""
        projects:
          - project: p
            matrix: {matrix}
        """) == [expected]


def test_fail_fast_must_be_a_boolean() -> None:
    assert problems_of("""
        projects:
          - project: p
            matrix: {a: [1]}
            fail_fast: sometimes
        """) == ["m.ick:5: project 'p': 'fail_fast' must be true or false, not 'sometimes'"]


def test_a_matrix_may_give_a_parameter_a_pipeline_requires() -> None:
    ickfile = load_ick_text(textwrap.dedent("""
        projects:
          - project: p
            matrix: [{arch: a}, {arch: b}]
            pipelines: [needs]
        pipelines:
          - pipeline: needs
            parameters: [arch]
        """), "m.ick")
    assert ickfile.reference_problems() == []
    half = load_ick_text(textwrap.dedent("""
        projects:
          - project: p
            matrix: [{arch: a}, {other: b}]
            pipelines: [needs]
        pipelines:
          - pipeline: needs
            parameters: [arch]
        """), "m.ick")
    assert half.reference_problems() == [
        "m.ick:3: project 'p' does not give parameter 'arch' that pipeline 'needs' requires"]


@pytest.mark.parametrize(("matrix", "jobs"), [
    (None, [{}]),
    ({"a": [1, 2], "b": ["x", "y"]},
     [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]),
    ([{"debian_arch": "amd64", "n": "one"}, {"debian_arch": "arm64"}],
     [{"debian_arch": "amd64", "n": "one"}, {"debian_arch": "arm64"}]),
])
def test_the_jobs_a_matrix_makes(matrix: Any, jobs: list[dict[str, Any]]) -> None:
    assert expand(matrix) == jobs
    pipeline = checked("pl", [], [{"shell": "a", "where": "host"},
                                  {"shell": "b", "where": "host"}])
    plan = plan_build(Project("p", {"a": 0}, ["pl"], matrix=matrix, fail_fast=True),
                      {"pl": pipeline}, {})
    assert plan.jobs == jobs and plan.fail_fast
    assert [(a.job, a.index) for a in plan.actions] == [
        (n, i) for n in range(len(jobs)) for i in (0, 1)]
    # the build's own; jobs add theirs
    assert plan.parameters == {"a": 0, "ick_trigger": "api", "ick_event": "manual"}


def test_a_trigger_checks_required_parameters_in_every_job() -> None:
    pipeline = checked("pl", ["arch"], [])
    with pytest.raises(InputError):
        plan_build(Project("p", {}, ["pl"], matrix=[{"arch": "a"}, {"b": 1}]),
                   {"pl": pipeline}, {})
