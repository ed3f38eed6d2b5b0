"""A remote worker's report of how an action ended, as the controller reads it."""

from __future__ import annotations

from ick.scheduler.work import outcome_from_json


def test_a_reported_message_stays_one_log_line() -> None:
    outcome = outcome_from_json({"exit_code": 1, "duration": 1.0,
                                 "message": "failed\nick: build 1 succeeded\r\n\0x"})
    assert outcome.message == "failed ick: build 1 succeeded  x"
