"""Which notification targets fire for a build event, and when a failed send is retried.

Pure code: no I/O and no clock; the outbox passes in states and attempt counts.
"""

from __future__ import annotations

from ick.model import BuildState
from ick.notify.channel import POINT_OF_EVENT, Target

# Seconds to wait after attempt N fails (N counts from 1); hourly after the list runs out.
RETRY_DELAYS = (10.0, 30.0, 120.0, 600.0, 1800.0)
RETRY_HOURLY = 3600.0
# Attempts in all: the first send, the five above (2560 s), then 24 hourly ones, so the
# last attempt comes 24 h 42 min after the first, and a notification is kept for over a day.
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS) + 24


def outcome_ok(state: BuildState) -> bool:
    """A build is good when it succeeded; failed, cancelled and interrupted all count as bad."""
    return state == BuildState.SUCCEEDED


def counts_as_outcome(state: BuildState) -> bool:
    """Whether a build's end says how the project is doing: a cancelled build (stopped by
    someone, or superseded) says nothing, so it is neither broken nor fixed."""
    return state != BuildState.CANCELLED


def fires(target: Target, event: str, state: BuildState, previous: BuildState | None) -> bool:
    """Whether `target` (a validated notify entry) is told about this event of a build
    (start, end, action_failed: the points started, ended, action_failed).

    `state` is the build's state (its outcome for 'end'); `previous` is the outcome of the
    project's previous finished build that was not cancelled, None for its first.
    """
    if POINT_OF_EVENT.get(event) not in target.on:
        return False
    if event != "end":
        # The when-rules are about outcomes: a start has none yet, and a failed action is
        # a failure whatever the rule.
        return True
    when = target.when
    if when == "always":
        return True
    if when == "failure":
        return not outcome_ok(state)
    if when == "change":
        if not counts_as_outcome(state):
            return False
        if previous is None:
            return not outcome_ok(state)  # a first build is a change only when it fails
        return outcome_ok(state) != outcome_ok(previous)
    raise ValueError(f"unknown notify rule when={when!r}")


def fires_deployment(target: Target, point: str, succeeded: bool) -> bool:
    """Whether `target` is told that a deployment ended (point `deployment`; with
    `when: failure` or `change`, only one that did not succeed) or waits (`approval`)."""
    if point not in target.on:
        return False
    return point == "approval" or target.when == "always" or not succeeded


def change_word(state: BuildState, previous: BuildState | None) -> str | None:
    """'broken' or 'fixed' when the outcome changed, else None (always for a cancelled
    build)."""
    if not counts_as_outcome(state):
        return None
    if previous is None:
        return None if outcome_ok(state) else "broken"
    if outcome_ok(state) == outcome_ok(previous):
        return None
    return "fixed" if outcome_ok(state) else "broken"


def retry_delay(attempts: int, scale: float = 1.0) -> float | None:
    """Seconds until the next try after `attempts` failed tries; None: give up."""
    if attempts < 1:
        raise ValueError(f"retry_delay: attempts must be at least 1, got {attempts}")
    if attempts >= MAX_ATTEMPTS:
        return None
    if attempts <= len(RETRY_DELAYS):
        return RETRY_DELAYS[attempts - 1] * scale
    return RETRY_HOURLY * scale
