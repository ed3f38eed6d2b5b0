"""The pure build state machine (ick/scheduler/machine.py): events in, decisions out.

Time is a string passed in; every test is plain and synchronous.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from ick.model import ActionRecord, ActionState, Build, BuildState
from ick.scheduler.machine import Decision, Dispatch, Finished, Kill, Outcome, Save, Scheduler

T0 = "2024-01-01T00:00:00.000Z"
T1 = "2024-01-01T00:00:01.000Z"
T2 = "2024-01-01T00:00:02.000Z"

OK = Outcome(exit_code=0, duration=0.5)


def make_build(
    build_id: int, project: str = "p", actions: int = 2, concurrent: bool = False
) -> Build:
    return Build(
        id=build_id, project=project, number=build_id, state=BuildState.QUEUED,
        parameters={}, queued_at=T0, concurrent=concurrent,
        actions=[
            ActionRecord(pipeline="pl", index=i, kind="shell", where="host",
                         spec={"shell": f"step {i}"})
            for i in range(actions)
        ],
    )


class Traced(Scheduler):
    """The machine, remembering the last snapshot its decisions carried of each build: the
    builds a test queues are snapshots the machine never changes, so `now(b)` says what
    became of one."""

    def __init__(self) -> None:
        super().__init__()
        self.last: dict[int, Build] = {}

    def now(self, build: Build) -> Build:
        return self.snapshot(build.id) or self.last.get(build.id, build)


def _noting(method: Callable[..., list[Decision]]) -> Callable[..., list[Decision]]:
    def call(self: Traced, *args: Any, **kwargs: Any) -> list[Decision]:
        decisions = method(self, *args, **kwargs)
        for d in decisions:
            self.last[d.build.id] = d.build
        return decisions
    return call


for _event in ("add_worker", "remove_worker", "hand_back", "enqueue", "worker_ready",
               "log_failed", "action_exited", "cancel", "recovered_running", "shutdown"):
    setattr(Traced, _event, _noting(getattr(Scheduler, _event)))


def shape(decisions: list[Decision]) -> list[tuple[object, ...]]:
    """Decisions as plain tuples, easy to compare with a table."""
    out: list[tuple[object, ...]] = []
    for d in decisions:
        if isinstance(d, Save):
            out.append(("save", d.build.id, d.seqs))
        elif isinstance(d, Dispatch):
            out.append(("dispatch", d.worker, d.build.id, d.seq))
        elif isinstance(d, Kill):
            out.append(("kill", d.worker, d.build.id))
        else:
            assert isinstance(d, Finished)
            out.append(("finished", d.build.id))
    return out


def states(build: Build) -> list[ActionState]:
    return [a.state for a in build.actions]


def running(s: Scheduler, worker: str, build: Build) -> None:
    """Put `build` on `worker`, checking that it starts there."""
    s.add_worker(worker)
    assert ("dispatch", worker, build.id, 0) in shape(
        s.enqueue(build, T0) + s.worker_ready(worker, T0)
    )


# queue policy ---------------------------------------------------------------


def test_builds_start_in_the_order_they_were_queued() -> None:
    s = Traced()
    builds = [make_build(i, project=f"p{i}") for i in (1, 2, 3)]
    for b in builds:
        assert s.enqueue(b, T0) == []  # no worker yet
    assert shape(s.worker_ready("w1", T1)) == [("save", 1, (0,)), ("dispatch", "w1", 1, 0)]
    assert shape(s.worker_ready("w2", T1)) == [("save", 2, (0,)), ("dispatch", "w2", 2, 0)]
    assert s.queued() == (3,)
    b1 = builds[0]
    b1 = s.now(builds[0])
    assert (b1.state, b1.started_at, b1.worker) == (BuildState.RUNNING, T1, "w1")
    assert states(b1) == [ActionState.RUNNING, ActionState.PENDING]
    assert builds[2].state == BuildState.QUEUED


@pytest.mark.parametrize(
    ("concurrent", "started"),
    [
        (False, [1, 3]),  # build 2 waits for build 1 of the same project
        (True, [1, 2]),  # a concurrent project runs side by side, in queue order
    ],
)
def test_one_running_build_per_project_unless_concurrent(
    concurrent: bool, started: list[int]
) -> None:
    s = Traced()
    for b in (make_build(1, "p", concurrent=concurrent), make_build(2, "p", concurrent=concurrent),
              make_build(3, "q")):
        s.enqueue(b, T0)
    decisions = s.worker_ready("w1", T0) + s.worker_ready("w2", T0)
    assert [d.build.id for d in decisions if isinstance(d, Dispatch)] == started
    assert len(s.queued()) == 1


def test_the_waiting_build_of_a_project_starts_once_the_running_one_ends() -> None:
    s = Traced()
    b1, b2 = make_build(1, "p", actions=1), make_build(2, "p", actions=1)
    s.enqueue(b1, T0)
    s.enqueue(b2, T0)
    s.worker_ready("w1", T0)
    assert s.worker_ready("w2", T0) == []
    assert shape(s.action_exited(1, 0, OK, T1)) == [("save", 1, (0,)), ("finished", 1)]
    # w2 was idle all along, but w1 asked last: b2 goes to it, warm (LIFO over idle workers)
    assert shape(s.worker_ready("w1", T1)) == [("save", 2, (0,)), ("dispatch", "w1", 2, 0)]


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
def test_n_idle_workers_take_n_builds(workers: int) -> None:
    s = Traced()
    for i in range(1, 7):
        s.enqueue(make_build(i, project=f"p{i}"), T0)
    decisions: list[Decision] = []
    for w in range(workers):
        decisions += s.worker_ready(f"w{w}", T0)
    dispatched = [(d.worker, d.build.id) for d in decisions if isinstance(d, Dispatch)]
    assert dispatched == [(f"w{w}", w + 1) for w in range(workers)]
    assert s.queued() == tuple(range(workers + 1, 7))
    assert s.idle_workers() == ()


def test_a_worker_that_asks_twice_while_idle_still_takes_one_build() -> None:
    s = Traced()
    assert s.worker_ready("w1", T0) == []
    assert s.worker_ready("w1", T0) == []
    assert s.idle_workers() == ("w1",)
    decisions = s.enqueue(make_build(1, "p"), T1) + s.enqueue(make_build(2, "q"), T1)
    assert shape(decisions) == [("save", 1, (0,)), ("dispatch", "w1", 1, 0)]
    assert s.queued() == (2,)


def test_an_idle_worker_takes_a_build_as_soon_as_it_is_queued() -> None:
    s = Traced()
    assert s.worker_ready("w1", T0) == []
    b = make_build(1)
    assert shape(s.enqueue(b, T1)) == [("save", 1, (0,)), ("dispatch", "w1", 1, 0)]
    assert s.now(b).started_at == T1


def test_a_build_without_actions_succeeds_at_once_without_a_worker() -> None:
    s = Traced()
    s.worker_ready("w1", T0)
    empty = make_build(1, actions=0)
    assert shape(s.enqueue(empty, T1)) == [("save", 1, ()), ("finished", 1)]
    empty = s.now(empty)
    # It runs nothing, so no worker is named (as with a build `when:` skips every action of).
    assert (empty.state, empty.started_at, empty.finished_at, empty.worker) == (
        BuildState.SUCCEEDED, T1, T1, None)
    assert s.running_ids() == ()
    assert shape(s.enqueue(make_build(2), T2)) == [("save", 2, (0,)), ("dispatch", "w1", 2, 0)]


# actions ending ---------------------------------------------------------------


def test_a_successful_action_dispatches_the_next_to_the_same_worker_in_one_save() -> None:
    s = Traced()
    b = make_build(1, actions=3)
    running(s, "w1", b)
    out = s.action_exited(1, 0, Outcome(exit_code=0, duration=0.25, details={"k": "v"}), T1)
    assert shape(out) == [("save", 1, (0, 1)), ("dispatch", "w1", 1, 1)]
    assert states(s.now(b)) == [ActionState.SUCCEEDED, ActionState.RUNNING, ActionState.PENDING]
    first = s.now(b).actions[0]
    assert (first.exit_code, first.duration, first.message, first.details) == (
        0, 0.25, None, {"k": "v"})
    assert (s.now(b).state, s.now(b).finished_at) == (BuildState.RUNNING, None)
    assert shape(s.action_exited(1, 1, OK, T1)) == [("save", 1, (1, 2)), ("dispatch", "w1", 1, 2)]
    assert shape(s.action_exited(1, 2, OK, T2)) == [("save", 1, (2,)), ("finished", 1)]
    assert (s.now(b).state, s.now(b).finished_at) == (BuildState.SUCCEEDED, T2)
    assert states(s.now(b)) == [ActionState.SUCCEEDED] * 3
    assert s.running_ids() == ()


@pytest.mark.parametrize(
    ("failing", "code", "expected"),
    [
        (0, 2, [ActionState.FAILED, ActionState.SKIPPED, ActionState.SKIPPED]),
        (1, 1, [ActionState.SUCCEEDED, ActionState.FAILED, ActionState.SKIPPED]),
        (2, 127, [ActionState.SUCCEEDED, ActionState.SUCCEEDED, ActionState.FAILED]),
        (1, -9, [ActionState.SUCCEEDED, ActionState.FAILED, ActionState.SKIPPED]),
    ],
)
def test_the_first_failing_action_fails_the_build_and_skips_the_rest(
    failing: int, code: int, expected: list[ActionState]
) -> None:
    s = Traced()
    b = make_build(1, actions=3)
    running(s, "w1", b)
    for seq in range(failing):
        s.action_exited(1, seq, OK, T1)
    out = s.action_exited(1, failing, Outcome(exit_code=code, duration=1.5), T2)
    assert shape(out) == [("save", 1, tuple(range(failing, 3))), ("finished", 1)]
    assert (s.now(b).state, s.now(b).finished_at) == (BuildState.FAILED, T2)
    assert states(s.now(b)) == expected
    bad = s.now(b).actions[failing]
    assert (bad.exit_code, bad.duration, bad.message) == (code, 1.5, f"exit status {code}")
    assert s.running_ids() == ()


@pytest.mark.parametrize("code", [None, 0, 137])
def test_a_timed_out_action_fails_the_build_with_the_outcome_message(code: int | None) -> None:
    s = Traced()
    b = make_build(1, actions=2)
    running(s, "w1", b)
    outcome = Outcome(exit_code=code, duration=10.0, message="timed out after 10 s",
                      timed_out=True)
    assert shape(s.action_exited(1, 0, outcome, T1)) == [("save", 1, (0, 1)), ("finished", 1)]
    b = s.now(b)
    assert b.state == BuildState.FAILED
    assert states(b) == [ActionState.FAILED, ActionState.SKIPPED]
    assert (b.actions[0].message, b.actions[0].exit_code) == ("timed out after 10 s", code)


def test_a_failure_message_from_the_worker_wins_over_the_exit_status() -> None:
    s = Traced()
    b = make_build(1, actions=1)
    running(s, "w1", b)
    s.action_exited(1, 0, Outcome(exit_code=None, duration=0.0, message="no such runner"), T1)
    assert (s.now(b).state, s.now(b).actions[0].message) == (BuildState.FAILED, "no such runner")


# cancelling -----------------------------------------------------------------


def test_cancelling_a_queued_build_skips_its_actions_and_dispatches_nothing() -> None:
    s = Traced()
    b = make_build(1, actions=3)
    s.enqueue(b, T0)
    assert shape(s.cancel(1, T1)) == [("save", 1, (0, 1, 2)), ("finished", 1)]
    b = s.now(b)
    assert (b.state, b.finished_at, b.started_at) == (BuildState.CANCELLED, T1, None)
    assert states(b) == [ActionState.SKIPPED] * 3
    assert s.queued() == ()
    assert s.worker_ready("w1", T2) == []
    assert s.cancel(1, T2) == []  # already ended


def test_cancelling_a_running_build_kills_then_ends_it_when_the_action_exits() -> None:
    s = Traced()
    b = make_build(1, actions=3)
    running(s, "w1", b)
    s.action_exited(1, 0, OK, T0)
    assert shape(s.cancel(1, T1)) == [("kill", "w1", 1)]
    assert s.now(b).state == BuildState.RUNNING  # nothing ends until the worker says so
    assert s.cancel(1, T1) == []  # one kill is enough
    out = s.action_exited(1, 1, Outcome(exit_code=-15, duration=0.1), T2)
    assert shape(out) == [("save", 1, (1, 2)), ("finished", 1)]
    assert (s.now(b).state, s.now(b).finished_at) == (BuildState.CANCELLED, T2)
    assert states(s.now(b)) == [ActionState.SUCCEEDED, ActionState.CANCELLED, ActionState.SKIPPED]
    assert (s.now(b).actions[1].message, s.now(b).actions[1].exit_code) == ("cancelled", -15)
    assert s.running_ids() == ()


def test_a_cancelled_action_that_exits_zero_still_cancels_the_build() -> None:
    s = Traced()
    b = make_build(1, actions=2)
    running(s, "w1", b)
    s.cancel(1, T1)
    s.action_exited(1, 0, OK, T2)
    assert s.now(b).state == BuildState.CANCELLED
    assert states(s.now(b)) == [ActionState.CANCELLED, ActionState.SKIPPED]


def test_cancelling_an_unknown_build_does_nothing() -> None:
    assert Scheduler().cancel(42, T0) == []


# stopping, recovering, losing workers --------------------------------------------


def test_shutdown_interrupts_running_builds_and_keeps_queued_ones() -> None:
    s = Traced()
    b1, b2 = make_build(1, "p", actions=2), make_build(2, "p", actions=1)
    running(s, "w1", b1)
    s.enqueue(b2, T0)
    s.worker_ready("w2", T0)  # b2 may not start: same project
    out = s.shutdown(T1)
    assert shape(out) == [("kill", "w1", 1), ("save", 1, (0, 1)), ("finished", 1)]
    assert (s.now(b1).state, s.now(b1).finished_at) == (BuildState.INTERRUPTED, T1)
    assert states(s.now(b1)) == [ActionState.INTERRUPTED, ActionState.SKIPPED]
    assert s.now(b1).actions[0].message == "the daemon stopped"
    assert s.now(b2).state == BuildState.QUEUED
    assert s.queued() == (b2.id,)
    assert (s.running_ids(), s.idle_workers(), s.workers()) == ((), (), frozenset())


@pytest.mark.parametrize(
    ("before", "saved", "after"),
    [
        # the running action is the one interrupted
        ([ActionState.SUCCEEDED, ActionState.RUNNING, ActionState.PENDING], (1, 2),
         [ActionState.SUCCEEDED, ActionState.INTERRUPTED, ActionState.SKIPPED]),
        # none running: the first pending one is
        ([ActionState.SUCCEEDED, ActionState.PENDING, ActionState.PENDING], (1, 2),
         [ActionState.SUCCEEDED, ActionState.INTERRUPTED, ActionState.SKIPPED]),
        ([ActionState.PENDING, ActionState.PENDING], (0, 1),
         [ActionState.INTERRUPTED, ActionState.SKIPPED]),
        ([], (), []),
    ],
)
def test_a_build_found_running_after_a_crash_is_interrupted(
    before: list[ActionState], saved: tuple[int, ...], after: list[ActionState]
) -> None:
    s = Traced()
    queued = make_build(1, actions=len(before))
    b = replace(queued, state=BuildState.RUNNING, started_at=T0, worker="w9",
                actions=[replace(a, state=state)
                         for a, state in zip(queued.actions, before, strict=True)])
    assert shape(s.recovered_running(b, T1)) == [("save", 1, saved), ("finished", 1)]
    assert (s.now(b).state, s.now(b).finished_at) == (BuildState.INTERRUPTED, T1)
    assert states(s.now(b)) == after
    for action in s.now(b).actions:
        if action.state == ActionState.INTERRUPTED:
            assert (action.message, action.exit_code) == ("the daemon stopped while it ran", None)
    assert s.running_ids() == ()


def test_removing_a_worker_interrupts_its_build_and_stops_giving_it_work() -> None:
    s = Traced()
    b = make_build(1, actions=2)
    running(s, "w1", b)
    s.worker_ready("w2", T0)
    assert shape(s.remove_worker("w1", T1)) == [("save", 1, (0, 1)), ("finished", 1)]
    assert (s.now(b).state, s.now(b).finished_at) == (BuildState.INTERRUPTED, T1)
    assert states(s.now(b)) == [ActionState.INTERRUPTED, ActionState.SKIPPED]
    assert s.now(b).actions[0].message == "the worker went away"
    assert s.remove_worker("w2", T1) == []  # idle: nothing to interrupt
    assert s.enqueue(make_build(2), T2) == []  # no worker left to take it
    assert s.workers() == frozenset()


def test_removing_a_worker_leaves_other_workers_builds_alone() -> None:
    s = Traced()
    b1, b2 = make_build(1, "p"), make_build(2, "q")
    running(s, "w1", b1)
    running(s, "w2", b2)
    s.remove_worker("w2", T1)
    assert s.now(b1).state == BuildState.RUNNING
    assert s.running_ids() == (1,)


# stale events ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("build_id", "seq"),
    [
        (99, 0),  # no such build
        (1, 1),  # not the running action (a late duplicate or a future one)
    ],
)
def test_an_action_exit_for_something_not_running_is_ignored(build_id: int, seq: int) -> None:
    s = Traced()
    b = make_build(1, actions=3)
    running(s, "w1", b)
    assert s.action_exited(build_id, seq, Outcome(exit_code=1, duration=1.0), T1) == []
    assert s.now(b).state == BuildState.RUNNING
    assert states(s.now(b)) == [ActionState.RUNNING, ActionState.PENDING, ActionState.PENDING]


def test_an_action_exit_after_the_build_ended_changes_nothing() -> None:
    s = Traced()
    b = make_build(1, actions=2)
    running(s, "w1", b)
    s.remove_worker("w1", T1)  # interrupted while the action still ran
    assert s.action_exited(1, 0, OK, T2) == []
    b = s.now(b)
    assert b.state == BuildState.INTERRUPTED
    assert (b.actions[0].state, b.actions[0].exit_code) == (ActionState.INTERRUPTED, None)
    assert b.finished_at == T1


def test_a_worker_with_a_build_in_hand_gets_no_second_build() -> None:
    def build(build_id: int) -> Build:
        return Build(id=build_id, project=f"p{build_id}", number=1, state=BuildState.QUEUED,
                     parameters={}, queued_at="t0",
                     actions=[ActionRecord("p", 0, "shell", "host", {"shell": "true"})])

    machine = Scheduler()
    machine.enqueue(build(1), "t1")
    machine.enqueue(build(2), "t1")
    first = machine.worker_ready("w", "t2")
    assert [type(d).__name__ for d in first] == ["Save", "Dispatch"]
    assert machine.worker_ready("w", "t3") == []
    assert machine.queued() == (2,)
