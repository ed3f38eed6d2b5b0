"""The state machine with matrix jobs: each job queued, routed and run on its own, the build
following its jobs, fail_fast, cancelling, losing workers and restarts. Plain and synchronous.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ick.model import ActionRecord, ActionState, Build, BuildState, JobRecord
from ick.scheduler.machine import (
    Decision,
    Dispatch,
    Finished,
    JobEnded,
    Kill,
    Outcome,
    Save,
    build_outcome,
)
from ick.scheduler.routing import WorkerInfo
from tests.scheduler.test_machine import Traced

T0, T1, T2 = "2024-01-01T00:00:00.000Z", "2024-01-01T00:00:01.000Z", "2024-01-01T00:00:02.000Z"
OK = Outcome(exit_code=0, duration=0.1)
BAD = Outcome(exit_code=2, duration=0.1)


def matrix_build(jobs: list[dict[str, object]], actions: int = 2, fail_fast: bool = False,
                 build_id: int = 1) -> Build:
    return Build(
        id=build_id, project="p", number=build_id, state=BuildState.QUEUED, parameters={"x": 1},
        queued_at=T0, fail_fast=fail_fast,
        jobs=[JobRecord(n, dict(p)) for n, p in enumerate(jobs)],
        actions=[ActionRecord(pipeline="pl", index=i, kind="shell", where="host",
                              spec={"shell": f"step {i}"}, job=n)
                 for n in range(len(jobs)) for i in range(actions)],
    )


def shape(decisions: list[Decision]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for d in decisions:
        if isinstance(d, Save):
            out.append(("save", d.seqs))
        elif isinstance(d, Dispatch):
            out.append(("dispatch", d.worker, d.seq))
        elif isinstance(d, Kill):
            out.append(("kill", d.worker, d.job))
        elif isinstance(d, JobEnded):
            out.append(("job ended", d.job))
        else:
            assert isinstance(d, Finished)
            out.append(("finished",))
    return out


def two_running(fail_fast: bool = False) -> tuple[Traced, Build]:
    """Jobs 0 and 1 of three running on w1 and w2; job 2 queued."""
    s = Traced()
    b = matrix_build([{"n": 1}, {"n": 2}, {"n": 3}], fail_fast=fail_fast)
    s.enqueue(b, T0)
    assert shape(s.worker_ready("w1", T0) + s.worker_ready("w2", T0)) == [
        ("save", (0,)), ("dispatch", "w1", 0), ("save", (2,)), ("dispatch", "w2", 2)]
    return s, b


def test_jobs_of_one_build_run_at_once_each_with_its_parameters() -> None:
    s, b = two_running()
    assert (s.now(b).state, s.now(b).worker, s.now(b).started_at) == (BuildState.RUNNING, "w1", T0)
    assert [(j.state, j.worker) for j in s.now(b).jobs] == [
        (BuildState.RUNNING, "w1"), (BuildState.RUNNING, "w2"), (BuildState.QUEUED, None)]
    view = s.running_action(1, 2)
    assert view is not None
    assert (view.job, view.worker, view.parameters) == (1, "w2", {"x": 1, "n": 2})
    assert s.running_ids() == (1,) and s.queued() == (1,)


def test_only_the_first_dispatch_of_a_build_starts_it() -> None:
    s = Traced()
    s.enqueue(matrix_build([{}, {}]), T0)
    first = s.worker_ready("w1", T0) + s.worker_ready("w2", T0)
    assert [d.starts_build for d in first if isinstance(d, Dispatch)] == [True, False]


def test_a_job_goes_on_within_its_own_actions_and_ends_alone() -> None:
    s, b = two_running()
    assert shape(s.action_exited(1, 2, OK, T1)) == [("save", (2, 3)), ("dispatch", "w2", 3)]
    assert shape(s.action_exited(1, 3, OK, T1)) == [("save", (3,)), ("job ended", 1)]
    assert s.now(b).jobs[1].state == BuildState.SUCCEEDED and s.now(b).state == BuildState.RUNNING
    # w2 is free again and takes the queued job
    assert shape(s.worker_ready("w2", T1)) == [("save", (4,)), ("dispatch", "w2", 4)]


def test_the_build_succeeds_only_when_every_job_did() -> None:
    s, b = two_running()
    for seq in (0, 1, 2, 3):
        s.action_exited(1, seq, OK, T1)
    s.worker_ready("w1", T1)
    s.action_exited(1, 4, OK, T1)
    assert shape(s.action_exited(1, 5, OK, T2)) == [("save", (5,)), ("finished",)]
    assert (s.now(b).state, s.now(b).finished_at) == (BuildState.SUCCEEDED, T2)


def test_without_fail_fast_a_failed_job_leaves_the_others_running() -> None:
    s, b = two_running()
    assert shape(s.action_exited(1, 0, BAD, T1)) == [("save", (0, 1)), ("job ended", 0)]
    assert [j.state for j in s.now(b).jobs] == [BuildState.FAILED, BuildState.RUNNING,
                                         BuildState.QUEUED]
    assert s.queued() == (1,)
    s.worker_ready("w1", T1)
    for seq in (2, 3, 4, 5):
        s.action_exited(1, seq, OK, T2)
    assert s.now(b).state == BuildState.FAILED


def test_fail_fast_kills_the_running_jobs_and_cancels_the_queued_ones() -> None:
    s, b = two_running(fail_fast=True)
    assert shape(s.action_exited(1, 0, BAD, T1)) == [
        ("save", (0, 1, 4, 5)), ("job ended", 0), ("kill", "w2", 1)]
    assert [j.state for j in s.now(b).jobs] == [BuildState.FAILED, BuildState.RUNNING,
                                         BuildState.CANCELLED]
    assert s.queued() == ()
    assert shape(s.action_exited(1, 2, Outcome(-15, 0.1), T2)) == [("save", (2, 3)),
                                                                   ("finished",)]
    assert [j.state for j in s.now(b).jobs] == [BuildState.FAILED, BuildState.CANCELLED,
                                         BuildState.CANCELLED]
    assert s.now(b).state == BuildState.FAILED


def test_cancelling_kills_every_running_job_and_drops_the_queued() -> None:
    s, b = two_running()
    assert shape(s.cancel(1, T1)) == [("save", (4, 5)), ("kill", "w1", 0), ("kill", "w2", 1)]
    assert shape(s.action_exited(1, 0, OK, T2)) == [("save", (0, 1)), ("job ended", 0)]
    assert shape(s.action_exited(1, 2, OK, T2)) == [("save", (2, 3)), ("finished",)]
    assert s.now(b).state == BuildState.CANCELLED
    assert [j.state for j in s.now(b).jobs] == [BuildState.CANCELLED] * 3


def test_losing_a_worker_interrupts_its_job_only() -> None:
    s, b = two_running()
    assert shape(s.remove_worker("w2", T1, "gone")) == [("save", (2, 3)), ("job ended", 1)]
    assert s.now(b).jobs[1].state == BuildState.INTERRUPTED
    assert s.is_running(1, 0) and not s.is_running(1, 1)


def test_a_handed_back_job_is_queued_again_and_the_build_keeps_running() -> None:
    s, b = two_running()
    out = s.hand_back(1, 2, T1)
    assert shape(out) == [("save", (2, 3))]
    assert s.now(b).jobs[1].state == BuildState.QUEUED and s.now(b).state == BuildState.RUNNING
    assert s.queued() == (1,)


def test_a_job_waits_for_a_worker_of_its_arch_with_the_reason() -> None:
    s = Traced()
    s.add_worker("amd", WorkerInfo("amd", {"arch": ("amd64",)}))
    b = matrix_build([{"debian_arch": "amd64"}, {"debian_arch": "riscv64"}])
    out = s.enqueue(b, T0) + s.worker_ready("amd", T0) + s.worker_ready("amd", T0)
    assert shape(out) == [("save", (0,)), ("dispatch", "amd", 0)]
    assert s.waiting(1) == "job 1: no worker has arch=riscv64"
    s.add_worker("rv", WorkerInfo("rv", {"arch": ("riscv64",)}))
    assert s.waiting(1) is None
    assert shape(s.worker_ready("rv", T1)) == [("save", (2,)), ("dispatch", "rv", 2)]


def test_a_build_found_running_after_a_crash_has_every_unfinished_job_interrupted() -> None:
    s = Traced()
    queued = matrix_build([{}, {}, {}], actions=1)
    jobs, actions = list(queued.jobs), list(queued.actions)
    jobs[0], jobs[1] = (replace(jobs[0], state=BuildState.SUCCEEDED),
                        replace(jobs[1], state=BuildState.RUNNING))
    actions[0], actions[1] = (replace(actions[0], state=ActionState.SUCCEEDED),
                              replace(actions[1], state=ActionState.RUNNING))
    b = replace(queued, state=BuildState.RUNNING, jobs=jobs, actions=actions)
    out = s.recovered_running(b, T1)
    assert shape(out) == [("save", (1, 2)), ("finished",)]
    assert [j.state for j in s.now(b).jobs] == [BuildState.SUCCEEDED, BuildState.INTERRUPTED,
                                         BuildState.INTERRUPTED]
    assert s.now(b).state == BuildState.INTERRUPTED


def test_shutdown_interrupts_a_build_with_a_running_job_whole() -> None:
    s, b = two_running()
    out = s.shutdown(T1)
    assert ("finished",) in shape(out)
    assert s.now(b).state == BuildState.INTERRUPTED
    assert [j.state for j in s.now(b).jobs] == [BuildState.INTERRUPTED] * 3
    assert s.queued() == () and s.running_ids() == ()


@pytest.mark.parametrize(("states", "expected"), [
    ([BuildState.SUCCEEDED, BuildState.SUCCEEDED], BuildState.SUCCEEDED),
    ([BuildState.SUCCEEDED, BuildState.CANCELLED], BuildState.CANCELLED),
    ([BuildState.CANCELLED, BuildState.INTERRUPTED], BuildState.INTERRUPTED),
    ([BuildState.INTERRUPTED, BuildState.FAILED, BuildState.CANCELLED], BuildState.FAILED),
])
def test_the_build_state_follows_its_jobs(states: list[BuildState],
                                          expected: BuildState) -> None:
    assert build_outcome([JobRecord(n, state=st) for n, st in enumerate(states)]) == expected
