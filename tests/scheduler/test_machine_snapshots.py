"""The state machine never changes the builds it is given, and each decision carries a
snapshot of the moment it was made."""

from __future__ import annotations

import copy

from ick.model import ActionState, BuildState
from ick.scheduler.machine import Dispatch, Finished, Save, Scheduler
from tests.scheduler.test_machine import OK, T0, T1, make_build


def test_the_build_given_is_never_changed_and_each_save_is_its_own_snapshot() -> None:
    s = Scheduler()
    given = make_build(1, actions=2)
    before = copy.deepcopy(given)
    s.add_worker("w")
    first = s.enqueue(given, T0) + s.worker_ready("w", T0)
    second = s.action_exited(1, 0, OK, T1)
    third = s.action_exited(1, 1, OK, T1)
    assert given == before
    saves = [d.build for d in first + second + third if isinstance(d, Save)]
    assert [b.state for b in saves] == [BuildState.RUNNING, BuildState.RUNNING,
                                        BuildState.SUCCEEDED]
    assert [[a.state for a in b.actions] for b in saves] == [
        [ActionState.RUNNING, ActionState.PENDING],
        [ActionState.SUCCEEDED, ActionState.RUNNING],
        [ActionState.SUCCEEDED, ActionState.SUCCEEDED]]
    # a save and what follows it in the same step share one snapshot
    dispatch = next(d for d in second if isinstance(d, Dispatch))
    assert dispatch.build is saves[1]
    finished = next(d for d in third if isinstance(d, Finished))
    assert finished.build is saves[2]


def test_the_machine_shows_a_build_it_holds_as_a_snapshot() -> None:
    s = Scheduler()
    s.enqueue(make_build(1), T0)
    queued = s.snapshot(1)
    assert queued is not None and queued.state is BuildState.QUEUED
    s.worker_ready("w", T1)
    running = s.snapshot(1)
    assert running is not None and running.state is BuildState.RUNNING
    assert queued.state is BuildState.QUEUED
    assert s.snapshot(2) is None
