"""The machine's own timeouts (ick/scheduler/machine.py): an action run past its `timeout:`
plus the grace is failed and its worker told to stop; an action the machine ends keeps the
time it ran."""

from __future__ import annotations

from dataclasses import replace

from ick.model import ActionState, BuildState
from ick.scheduler.machine import Finished, Kill, Save, Scheduler
from tests.scheduler.test_machine import T0, make_build

T5 = "2024-01-01T00:00:05.000Z"
T36 = "2024-01-01T00:00:36.000Z"


def with_timeout(seconds: int) -> Scheduler:
    build = make_build(1)
    first = replace(build.actions[0], spec={"shell": "sleep 99", "timeout": seconds})
    machine = Scheduler()
    machine.add_worker("w")
    machine.enqueue(replace(build, actions=[first, *build.actions[1:]]), T0)
    machine.worker_ready("w", T0)
    return machine


def test_an_action_past_its_timeout_and_grace_is_failed_and_killed() -> None:
    machine = with_timeout(5)
    assert machine.overdue(T5, 30.0) == ()
    assert machine.overdue("2024-01-01T00:00:35.000Z", 30.0) == ()
    [late] = machine.overdue(T36, 30.0)
    assert (late.build_id, late.seq, late.worker) == (1, 0, "w")
    decisions = machine.timed_out(1, 0, T36)
    assert isinstance(decisions[0], Kill) and decisions[0].worker == "w"
    ended = next(d.build for d in decisions if isinstance(d, Finished))
    assert ended.state is BuildState.FAILED
    assert (ended.actions[0].state, ended.actions[0].message, ended.actions[0].duration) == (
        ActionState.FAILED, "timed out after 5 s", 36.0)
    assert ended.actions[1].state is ActionState.SKIPPED
    assert machine.overdue(T36, 30.0) == () and machine.timed_out(1, 0, T36) == []


def test_an_action_without_a_timeout_is_never_overdue() -> None:
    machine = Scheduler()
    machine.add_worker("w")
    machine.enqueue(make_build(1), T0)
    machine.worker_ready("w", T0)
    assert machine.overdue("2030-01-01T00:00:00.000Z", 30.0) == ()


def test_an_interrupted_action_keeps_the_time_it_ran() -> None:
    machine = with_timeout(60)
    decisions = machine.remove_worker("w", T5)
    saved = [d.build for d in decisions if isinstance(d, Save)][-1]
    assert (saved.actions[0].state, saved.actions[0].duration) == (ActionState.INTERRUPTED, 5.0)
