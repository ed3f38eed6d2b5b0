"""A cancelled build is neither broken nor fixed (cancelling a queued duplicate mailed
"[ick] hello #9 cancelled (broken)")."""

from __future__ import annotations

import pytest

from ick.model import BuildState
from ick.notify.channel import Target
from ick.notify.rules import change_word, fires

CANCELLED = BuildState.CANCELLED


@pytest.mark.parametrize("previous", [None, BuildState.SUCCEEDED, BuildState.FAILED])
def test_a_cancelled_build_is_no_change(previous: BuildState | None) -> None:
    assert change_word(CANCELLED, previous) is None
    assert not fires(Target("email", "dev@example.org", "change"), "end", CANCELLED, previous)
    # Who asked for every end, or every build that did not succeed, still hears of it.
    assert fires(Target("email", "dev@example.org", "always"), "end", CANCELLED, previous)
    assert fires(Target("email", "dev@example.org", "failure"), "end", CANCELLED, previous)
