"""When scheduled builds are due: table tests of the pure timetable, on times passed in."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ick.scheduler.timetable import Due, due, next_slot, schedule_problem

UTC = ZoneInfo("UTC")
HEL = ZoneInfo("Europe/Helsinki")


def t(text: str, zone: ZoneInfo = UTC) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(
    ("expr", "seen", "now", "expected"),
    [
        # a new schedule starts from now: applied at noon, a nightly one waits for the night
        ("0 3 * * *", None, t("2026-05-05 12:00"), Due(False, t("2026-05-05 03:00"))),
        # the slot has come
        ("0 3 * * *", t("2026-05-05 03:00"), t("2026-05-06 03:00:00.2"),
         Due(True, t("2026-05-06 03:00"))),
        # not yet
        ("0 3 * * *", t("2026-05-05 03:00"), t("2026-05-06 02:59:59"),
         Due(False, t("2026-05-05 03:00"))),
        # already dealt with: checking again in the same minute builds nothing
        ("0 3 * * *", t("2026-05-06 03:00"), t("2026-05-06 03:00:30"),
         Due(False, t("2026-05-06 03:00"))),
        # the daemon was down for a week: one build, not seven
        ("0 3 * * *", t("2026-05-01 03:00"), t("2026-05-08 09:00"),
         Due(True, t("2026-05-08 03:00"))),
        # every minute
        ("* * * * *", t("2026-05-05 10:00"), t("2026-05-05 10:01:05"),
         Due(True, t("2026-05-05 10:01"))),
        # weekdays only: Saturday 2026-05-09 is skipped
        ("30 6 * * 1-5", t("2026-05-08 06:30"), t("2026-05-09 07:00"),
         Due(False, t("2026-05-08 06:30"))),
        ("30 6 * * 1-5", t("2026-05-08 06:30"), t("2026-05-11 06:30"),
         Due(True, t("2026-05-11 06:30"))),
        # in the daemon's zone: 03:00 in Helsinki is 00:00 UTC in summer
        ("0 3 * * *", t("2026-05-05 03:00", HEL), t("2026-05-06 03:00", HEL),
         Due(True, t("2026-05-06 03:00", HEL))),
    ],
)
def test_due(expr: str, seen: datetime | None, now: datetime, expected: Due) -> None:
    assert due(expr, seen, now) == expected


def test_a_new_schedule_counts_slots_since_the_previous_check() -> None:
    # checked at 10:00:50 without the schedule, at 10:01:20 with it: the 10:01 slot builds
    assert due("* * * * *", None, t("2026-05-05 10:01:20"),
               new_since=t("2026-05-05 10:00:50")) == Due(True, t("2026-05-05 10:01"))
    assert due("* * * * *", None, t("2026-05-05 10:01:20"),
               new_since=t("2026-05-05 10:01:10")) == Due(False, t("2026-05-05 10:01"))


def test_next_slot_across_a_dst_change() -> None:
    # Helsinki moves from 03:00 to 04:00 on 2026-03-29: 03:30 does not exist that day
    assert next_slot("30 2 * * *", t("2026-03-29 00:00", HEL)) == t("2026-03-29 02:30", HEL)
    assert next_slot("0 12 * * *", t("2026-03-29 00:00", HEL)) == t("2026-03-29 12:00", HEL)
    slot = next_slot("0 12 * * *", t("2026-03-29 00:00", HEL))
    assert slot is not None
    # an hour of that day is missing: noon comes 11 hours after midnight
    assert (slot.astimezone(UTC) - t("2026-03-29 00:00", HEL).astimezone(UTC)).seconds == 39600


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0 3 * * *", None),
        ("*/15 * * * 1-5", None),
        ("0 3 * *", "expected five cron fields (minute hour day month weekday), "
                    "like \"0 3 * * *\", not '0 3 * *'"),
        ("0 0 3 * * *", "expected five cron fields (minute hour day month weekday), "
                        "like \"0 3 * * *\", not '0 0 3 * * *'"),
        ("61 3 * * *", "bad cron expression '61 3 * * *': bad minute"),
        ("0 3 * * mon-xyz", "bad cron expression '0 3 * * mon-xyz': bad day-of-week"),
        (3, "expected cron syntax in a string, like \"0 3 * * *\", not 3"),
    ],
)
def test_schedule_problem(value: object, problem: str | None) -> None:
    assert schedule_problem(value) == problem
