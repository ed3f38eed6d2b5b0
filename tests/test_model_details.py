"""An action's JSON (ick/model.py ActionRecord.to_json): details beside its own fields."""

from __future__ import annotations

from ick.model import ActionRecord, ActionState


def test_details_never_replace_an_actions_own_fields() -> None:
    record = ActionRecord("p", 0, "shell", "host", {"shell": "true"}, ActionState.FAILED, 1,
                          details={"state": "succeeded", "exit_code": 0, "git": []})
    doc = record.to_json()
    assert (doc["state"], doc["exit_code"], doc["git"]) == ("failed", 1, [])


def test_the_commit_built_comes_from_the_sources_an_action_reported() -> None:
    from ick.model import SOURCES_KEY, Build, BuildState, SourceRevision

    mirror = SourceRevision("https://h.test/r", "refs/heads/main", "c0ffee", "src", "r")
    action = ActionRecord("p", 0, "git", "host", {}, ActionState.SUCCEEDED, 0, details={
        SOURCES_KEY: [{"url": "x"}, mirror.to_json()]})
    assert action.sources() == [mirror]
    assert action.to_json()["git"] == [{"url": "x"}, {
        "name": "r", "url": "https://h.test/r", "ref": "refs/heads/main", "commit": "c0ffee",
        "dir": "src"}]
    build = Build(1, "p", 1, BuildState.SUCCEEDED, {}, "t", actions=[action])
    assert build.commit == "c0ffee"
    pushed = Build(2, "p", 2, BuildState.SUCCEEDED, {"git_commit": "abc"}, "t", actions=[action])
    assert pushed.commit == "abc"
