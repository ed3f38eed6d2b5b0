"""ick/storage/build_rows.py: rows in the order the column lists name them become the model's
objects, with the listing's resolved commit when the query has it."""

from __future__ import annotations

import json

from ick.model import NO_GIT, ActionState, BuildState, GitFacts, JobRecord
from ick.storage.build_rows import action_from_row, build_from_row, git_to_json, job_from_row

BUILD_ROW = (7, "p", 3, "running", json.dumps({"x": "1"}), 1, "T0", "T1", None, "w", 0,
             "push", "hook for p", None, None)


def test_a_build_row_with_and_without_the_resolved_commit() -> None:
    build = build_from_row(BUILD_ROW)
    assert (build.id, build.project, build.number, build.state, build.parameters) == (
        7, "p", 3, BuildState.RUNNING, {"x": "1"})
    assert (build.concurrent, build.queued_at, build.started_at, build.finished_at) == (
        True, "T0", "T1", None)
    assert (build.worker, build.fail_fast, build.resolved_commit) == ("w", False, None)
    assert (build.event, build.triggered_by, build.git) == ("push", "hook for p", NO_GIT)
    assert build.gate is None
    assert build_from_row((*BUILD_ROW, "abc")).resolved_commit == "abc"


def test_a_build_without_job_rows_has_its_job_0_and_one_with_them_has_those() -> None:
    assert [j.job for j in build_from_row(BUILD_ROW).jobs] == [0]
    jobs = [JobRecord(job=0), JobRecord(job=1)]
    assert build_from_row(BUILD_ROW, jobs=jobs).jobs == tuple(jobs)


def test_git_facts_go_to_their_column_and_come_back() -> None:
    git = GitFacts.of_ref("refs/tags/v1", "abc", "Release 1", "Ann <a@example.org>")
    assert (git.branch, git.tag) == (None, "v1")
    row = (*BUILD_ROW[:13], git_to_json(git), None)
    assert build_from_row(row).git == git
    assert git_to_json(NO_GIT) is None


def test_job_and_action_rows() -> None:
    job = job_from_row((7, 1, json.dumps({"arch": "arm64"}), "failed", "w", "T0", "T1"))
    assert job == JobRecord(job=1, parameters={"arch": "arm64"}, state=BuildState.FAILED,
                            worker="w", started_at="T0", finished_at="T1")
    action = action_from_row((7, 0, "pl", 2, "shell", "host", json.dumps({"shell": "true"}),
                              "succeeded", 0, 0.5, None, json.dumps({"k": 1}), 1, None, None))
    assert (action.pipeline, action.index, action.kind, action.where, action.spec) == (
        "pl", 2, "shell", "host", {"shell": "true"})
    assert (action.state, action.exit_code, action.duration, action.message) == (
        ActionState.SUCCEEDED, 0, 0.5, None)
    assert (action.details, action.job) == ({"k": 1}, 1)
    # An action stored before ick kept its traits needs nothing of a worker...
    assert (action.local, action.arch_key) == (False, None)
    # ...and one stored since says what its type needs.
    needy = action_from_row((7, 1, "pl", 3, "apt_publish", "host", "{}", "pending", None,
                             None, None, "{}", 0, 1, "debian_arch"))
    assert (needy.local, needy.arch_key) == (True, "debian_arch")
