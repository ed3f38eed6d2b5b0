"""An action's JSON (ick/model.py ActionRecord.to_json): details beside its own fields."""

from __future__ import annotations

from ick.model import ActionRecord, ActionState


def test_details_never_replace_an_actions_own_fields() -> None:
    record = ActionRecord("p", 0, "shell", "host", {"shell": "true"}, ActionState.FAILED, 1,
                          details={"state": "succeeded", "exit_code": 0, "git": []})
    doc = record.to_json()
    assert (doc["state"], doc["exit_code"], doc["git"]) == ("failed", 1, [])
