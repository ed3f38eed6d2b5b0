"""Which notify targets fire (table-driven), the change wording, and the retry schedule."""

from __future__ import annotations

import pytest

from ick.model import BuildState
from ick.notify.channel import Target
from ick.notify.rules import MAX_ATTEMPTS, change_word, fires, retry_delay

OK, FAIL = BuildState.SUCCEEDED, BuildState.FAILED
CANCELLED, INTERRUPTED = BuildState.CANCELLED, BuildState.INTERRUPTED


def target(when: str = "always", on: tuple[str, ...] = ("ended",)) -> Target:
    return Target("email", "dev@example.org", when, on)


@pytest.mark.parametrize(("when", "state", "previous", "expected"), [
    ("always", OK, None, True),
    ("always", FAIL, OK, True),
    ("always", CANCELLED, FAIL, True),
    ("failure", OK, None, False),
    ("failure", OK, FAIL, False),
    ("failure", FAIL, None, True),
    ("failure", FAIL, FAIL, True),
    ("failure", INTERRUPTED, OK, True),
    ("failure", CANCELLED, OK, True),
    # change: the outcome differs from the previous finished build's
    ("change", OK, None, False),          # a first build that succeeds is no change
    ("change", FAIL, None, True),         # a first build that fails is one
    ("change", OK, OK, False),
    ("change", FAIL, FAIL, False),
    ("change", FAIL, OK, True),           # broken
    ("change", OK, FAIL, True),           # fixed
    ("change", INTERRUPTED, FAIL, False),  # bad after bad
    ("change", OK, CANCELLED, True),
])
def test_when_rules_at_the_end(when: str, state: BuildState, previous: BuildState | None,
                               expected: bool) -> None:
    assert fires(target(when), "end", state, previous) is expected


@pytest.mark.parametrize(("on", "event", "expected"), [
    (("ended",), "end", True),
    (("ended",), "start", False),
    (("started",), "start", True),
    (("started",), "end", False),
    (("started", "ended"), "start", True),
    (("started", "ended"), "end", True),
    (("ended",), "action_failed", False),
    (("action_failed",), "action_failed", True),
    (("action_failed",), "end", False),
    (("deployment", "approval", "gate"), "end", False),
])
def test_on_picks_the_events(on: tuple[str, ...], event: str, expected: bool) -> None:
    assert fires(target("always", on), event, BuildState.RUNNING if event == "start" else OK,
                 None) is expected


@pytest.mark.parametrize("when", ["always", "failure", "change"])
def test_a_start_fires_whatever_the_when_rule(when: str) -> None:
    assert fires(target(when, ("started", "ended")), "start", BuildState.RUNNING, OK)


@pytest.mark.parametrize("when", ["always", "failure", "change"])
def test_a_failed_action_fires_whatever_the_when_rule(when: str) -> None:
    assert fires(target(when, ("action_failed",)), "action_failed", FAIL, FAIL)


def test_defaults_are_always_and_end() -> None:
    assert fires(Target("webhook", "http://x.test/"), "end", FAIL, None)
    assert not fires(Target("webhook", "http://x.test/"), "start", BuildState.RUNNING, None)


def test_unknown_when_is_a_bug_not_a_silence() -> None:
    with pytest.raises(ValueError, match="unknown notify rule when='sometimes'"):
        fires(target("sometimes"), "end", OK, None)


@pytest.mark.parametrize(("state", "previous", "word"), [
    (FAIL, None, "broken"),
    (OK, None, None),
    (FAIL, OK, "broken"),
    (OK, FAIL, "fixed"),
    (OK, INTERRUPTED, "fixed"),
    (FAIL, FAIL, None),
    (OK, OK, None),
])
def test_change_word(state: BuildState, previous: BuildState | None, word: str | None) -> None:
    assert change_word(state, previous) == word


def test_first_retry_within_30_seconds_then_less_often() -> None:
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS)]
    assert all(d is not None for d in delays)
    assert delays[0] is not None and delays[0] <= 30
    assert delays == sorted(delays, key=lambda d: d or 0)  # never more often than before
    assert delays[:6] == [10, 30, 120, 600, 1800, 3600]


def test_retries_go_on_for_at_least_a_day_then_stop() -> None:
    total = 0.0
    for attempts in range(1, MAX_ATTEMPTS):
        delay = retry_delay(attempts)
        assert delay is not None
        total += delay
    assert total >= 24 * 3600
    assert total < 26 * 3600
    assert retry_delay(MAX_ATTEMPTS) is None
    assert retry_delay(MAX_ATTEMPTS + 5) is None


def test_scale_shrinks_every_delay() -> None:
    assert retry_delay(1, 0.05) == pytest.approx(0.5)
    assert retry_delay(10, 0.05) == pytest.approx(180)


def test_no_delay_before_any_attempt() -> None:
    with pytest.raises(ValueError, match="retry_delay: attempts must be at least 1, got 0"):
        retry_delay(0)
