"""When scheduled builds are due: cron expressions (through cronsim) against a clock passed in.

Pure: no I/O, no clock of its own. A slot missed while the daemon was down runs once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cronsim import CronSim, CronSimError


def schedule_problem(value: object) -> str | None:
    """What is wrong with a `schedule:` value, or None: five cron fields, as cron reads them."""
    if not isinstance(value, str):
        return f"expected cron syntax in a string, like \"0 3 * * *\", not {value!r}"
    if len(value.split()) != 5:
        return (f"expected five cron fields (minute hour day month weekday), "
                f"like \"0 3 * * *\", not {value!r}")
    try:
        next(CronSim(value, datetime(2000, 1, 1)))
    except CronSimError as e:
        return f"bad cron expression {value!r}: {str(e).lower()}"
    except StopIteration:
        return f"cron expression {value!r} never matches a date"
    return None


def last_slot(expr: str, now: datetime) -> datetime | None:
    """The latest time at or before `now` that `expr` names (None if none in living memory)."""
    try:
        # cronsim steps strictly away from its start: one second on includes `now` itself.
        return next(CronSim(expr, now.replace(microsecond=0) + timedelta(seconds=1),
                            reverse=True))
    except StopIteration:
        return None


def next_slot(expr: str, now: datetime) -> datetime | None:
    """The first time after `now` that `expr` names."""
    try:
        return next(CronSim(expr, now.replace(microsecond=0)))
    except StopIteration:
        return None


@dataclass(frozen=True)
class Due:
    """What to do about one schedule now: run a build or not, and the slot to remember."""

    run: bool
    seen: datetime


def due(expr: str, seen: datetime | None, now: datetime,
        new_since: datetime | None = None) -> Due:
    """`seen`: the last slot already dealt with; None for a schedule new since `new_since`
    (default: now), which counts the slots after that time only. Every slot since `seen` that
    has passed makes one build, however many there were: "0 3 * * *" applied at noon does
    not build at once, and a daemon down for a week builds once when it starts.
    """
    latest = last_slot(expr, now)
    if seen is None:
        seen = last_slot(expr, new_since or now) or new_since or now
        if latest is not None and latest > seen:
            return Due(True, latest)
        return Due(False, seen)
    if latest is not None and latest > seen:
        return Due(True, latest)
    return Due(False, seen)
