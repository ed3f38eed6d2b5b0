"""What chat channels say and what no message shows (ick/notify/message.py): chat_lines and
masked, pure functions of the facts."""

from __future__ import annotations

from typing import Any

from ick.notify.message import chat_lines, masked, subject


def doc(**more: Any) -> dict[str, Any]:
    return {"event": "end", "project": "hello", "number": 3, "state": "failed",
            "change": "broken", "url": "https://ci.test/ui/builds/17", "failed_action": None,
            **more}


def test_chat_lines_are_the_subject_with_its_link_and_the_failed_action() -> None:
    failed = {"pipeline": "build", "index": 1, "kind": "shell", "where": "host",
              "state": "failed", "message": "exit status 2\nand\tmore"}
    assert chat_lines(doc(failed_action=failed)) == [
        "[ick] hello #3 failed (broken): https://ci.test/ui/builds/17",
        # no newline or tab reaches a line: IRC would take it for a command
        "Failed action: pipeline build, action 2 (shell, where: host): exit status 2 and more"]
    assert chat_lines(doc(event="start", state="running", change=None)) == [
        "[ick] hello #3 started: https://ci.test/ui/builds/17"]
    assert subject(doc(event="action_failed")) == "[ick] hello #3 action failed"


def test_every_string_of_the_facts_is_masked_however_deep() -> None:
    facts = doc(parameters={"token": "tok-12345", "list": ["a tok-12345 b", 7]},
                log_tail="said tok-12345\n", failed_action={"message": "tok-12345 refused"})
    shown = masked(facts, [b"tok-12345\n"])
    assert shown["parameters"] == {"token": "***", "list": ["a *** b", 7]}
    assert shown["log_tail"] == "said ***\n"
    assert shown["failed_action"] == {"message": "*** refused"}
    assert shown["number"] == 3
    assert masked(facts, []) is facts
