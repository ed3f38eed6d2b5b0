"""The machine's pick of idle workers (ick/scheduler/machine.py): the most recently idle one
takes the next job (LIFO), so work stays on warm workers."""

from __future__ import annotations

import pytest

from ick.scheduler.machine import Dispatch, Outcome
from ick.scheduler.routing import WorkerInfo
from tests.scheduler.test_machine import T0, T1, Traced, make_build


@pytest.mark.parametrize(("ready", "builds", "takers"), [
    (["a"], 1, ["a"]),
    (["a", "b"], 1, ["b"]),
    (["a", "b", "c"], 1, ["c"]),
    (["a", "b", "c"], 2, ["c", "b"]),
    (["a", "b", "c"], 3, ["c", "b", "a"]),
    (["c", "a", "b"], 2, ["b", "a"]),
])
def test_the_most_recently_idle_worker_takes_the_next_build(
        ready: list[str], builds: int, takers: list[str]) -> None:
    s = Traced()
    for worker in ready:
        assert s.worker_ready(worker, T0) == []
    got = []
    for i in range(1, builds + 1):
        got += [d.worker for d in s.enqueue(make_build(i, project=f"p{i}"), T1)
                if isinstance(d, Dispatch)]
    assert got == takers


def test_a_worker_that_ends_a_build_takes_the_next_before_the_ones_idle_longer() -> None:
    s = Traced()
    s.worker_ready("cold", T0)
    s.worker_ready("warm", T0)
    first = s.enqueue(make_build(1, project="p1", actions=1), T0)
    assert [d.worker for d in first if isinstance(d, Dispatch)] == ["warm"]
    s.action_exited(1, 0, Outcome(0, 0.1), T1)
    s.worker_ready("warm", T1)
    assert s.idle_workers() == ("warm", "cold")
    second = s.enqueue(make_build(2, project="p2"), T1)
    assert [d.worker for d in second if isinstance(d, Dispatch)] == ["warm"]


def test_a_worker_with_two_free_slots_keeps_its_place_when_one_is_taken() -> None:
    s = Traced()
    s.add_worker("big", WorkerInfo("big", slots=2))
    s.worker_ready("big", T0)
    s.worker_ready("small", T0)
    s.worker_ready("big", T0)
    assert s.idle_workers() == ("big", "small", "big")
    s.enqueue(make_build(1, project="p1"), T1)
    assert s.idle_workers() == ("small", "big")
