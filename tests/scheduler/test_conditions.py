"""`when:` conditions (ick/scheduler/conditions.py): which hold for a build, and what a skipped
action's message says. Pure; tested by table."""

from __future__ import annotations

from typing import Any

import pytest

from ick.model import NO_GIT, GitFacts
from ick.scheduler.conditions import joint_statuses, plan_miss, status_miss

MAIN = GitFacts.of_ref("refs/heads/main", "a" * 40)
FEATURE = GitFacts.of_ref("refs/heads/feat/x", "b" * 40)
TAG = GitFacts.of_ref("refs/tags/v1.2", "c" * 40)


@pytest.mark.parametrize(("when", "event", "git", "parameters", "miss"), [
    ({}, "push", MAIN, {}, None),
    # event: one, or any of a list
    ({"event": "push"}, "push", MAIN, {}, None),
    ({"event": ["tag", "push"]}, "push", MAIN, {}, None),
    ({"event": ["tag"]}, "push", MAIN, {}, "when: event is 'push', not one of 'tag'"),
    ({"event": "push"}, "manual", NO_GIT, {}, "when: event is 'manual', not 'push'"),
    # branch: globs; a build without a branch never matches
    ({"branch": "main"}, "push", MAIN, {}, None),
    ({"branch": "main"}, "push", FEATURE, {}, "when: branch is 'feat/x', not 'main'"),
    ({"branch": "feat/*"}, "push", FEATURE, {}, None),
    ({"branch": ["main", "release/*"]}, "push", FEATURE, {},
     "when: branch is 'feat/x', not one of 'main', 'release/*'"),
    ({"branch": "*"}, "tag", TAG, {}, "when: branch is none, not '*'"),
    ({"branch": "*"}, "manual", NO_GIT, {}, "when: branch is none, not '*'"),
    ({"branch": "Main"}, "push", MAIN, {}, "when: branch is 'main', not 'Main'"),
    # tag: globs
    ({"tag": "v*"}, "tag", TAG, {}, None),
    ({"tag": ["release-*", "v1.?"]}, "tag", TAG, {}, None),
    ({"tag": "v2*"}, "tag", TAG, {}, "when: tag is 'v1.2', not 'v2*'"),
    ({"tag": "*"}, "push", MAIN, {}, "when: tag is none, not '*'"),
    # parameters: each named one has one of its values; JSON equality
    ({"parameters": {"arch": "amd64"}}, "push", MAIN, {"arch": "amd64"}, None),
    ({"parameters": {"arch": ["arm64", "amd64"], "n": 2}}, "push", MAIN,
     {"arch": "amd64", "n": 2.0}, None),
    ({"parameters": {"arch": "arm64"}}, "push", MAIN, {"arch": "amd64"},
     "when: parameter 'arch' is 'amd64', not 'arm64'"),
    ({"parameters": {"arch": "amd64", "debug": True}}, "push", MAIN,
     {"arch": "amd64", "debug": 1}, "when: parameter 'debug' is 1, not true"),
    ({"parameters": {"debug": [False, None]}}, "push", MAIN, {"debug": None}, None),
    ({"parameters": {"os": ["bookworm", "trixie"]}}, "push", MAIN, {},
     "when: parameter 'os' is not set, not one of 'bookworm', 'trixie'"),
    # every key given must hold: the first that does not is named
    ({"event": "push", "branch": "main", "parameters": {"x": 1}}, "push", MAIN, {"x": 1}, None),
    ({"event": "push", "branch": "main", "tag": "v*"}, "push", MAIN, {},
     "when: tag is none, not 'v*'"),
    # status is the machine's: it never makes a plan skip
    ({"status": "failure"}, "push", MAIN, {}, None),
])
def test_plan_time_keys(when: dict[str, Any], event: str, git: GitFacts,
                        parameters: dict[str, Any], miss: str | None) -> None:
    assert plan_miss(when, event, git, parameters) == miss


@pytest.mark.parametrize(("when", "failed", "miss"), [
    (None, False, None),
    ({}, True, "when: status is failure, not success"),
    ({"status": "success"}, True, "when: status is failure, not success"),
    ({"status": "failure"}, False, "when: status is success, not failure"),
    ({"status": "failure"}, True, None),
    ({"status": ["failure", "success"]}, False, None),
    ({"status": ["success", "failure"]}, True, None),
])
def test_status(when: dict[str, Any] | None, failed: bool, miss: str | None) -> None:
    assert status_miss(when, failed) == miss


@pytest.mark.parametrize(("whens", "statuses"), [
    (({}, {}, {}), {"success"}),
    (({"status": "failure"}, {}, {}), {"failure"}),
    (({}, {"status": ["success", "failure"]}, {"status": "failure"}), {"failure"}),
    (({"status": "failure"}, {}, {"status": "success"}), set()),
])
def test_the_levels_statuses_hold_together(whens: tuple[dict[str, Any], ...],
                                           statuses: set[str]) -> None:
    assert joint_statuses(whens) == statuses
