"""The state machine and `when:` (ick/scheduler/machine.py): actions planned skipped are never
dispatched, routed or run again; `when: status` decides, as a job runs, what runs after a
failure (only the actions that say `failure`, in order; the job stays failed). Plain and
synchronous."""

from __future__ import annotations

from typing import Any

from ick.model import ActionRecord, ActionState, Build, BuildState, JobRecord
from ick.scheduler.machine import Decision, JobEnded, Outcome, Scheduler
from ick.scheduler.routing import WorkerInfo
from tests.scheduler import test_machine
from tests.scheduler.test_machine import Traced

T0, T1, T2, T3 = (f"2024-01-01T00:00:0{n}.000Z" for n in range(4))
OK = Outcome(exit_code=0, duration=0.1)
BAD = Outcome(exit_code=2, duration=0.1)
AFTER_FAILURE = "when: status is failure, not success"
NOTHING_FAILED = "when: status is success, not failure"
PLANNED = "when: branch is 'feat/x', not 'main'"


def shape(decisions: list[Decision]) -> list[tuple[object, ...]]:
    """test_machine's shape, and ("job ended", N) for a job of several."""
    return [("job ended", d.job) if isinstance(d, JobEnded) else test_machine.shape([d])[0]
            for d in decisions]


def act(status: str | list[str] | None = None, skipped: str | None = None, job: int = 0,
        local: bool = False, index: int = 0) -> ActionRecord:
    """An action as plan_build makes it: its `when: status` in its spec, or skipped already."""
    spec: dict[str, Any] = {"shell": "true"}
    if status is not None:
        spec["when"] = {"status": status if isinstance(status, list) else [status]}
    return ActionRecord(pipeline="pl", index=index, kind="shell", where="host", spec=spec,
                        state=ActionState.SKIPPED if skipped else ActionState.PENDING,
                        message=skipped, job=job, local=local)


def build_of(*actions: ActionRecord, jobs: int = 1, fail_fast: bool = False) -> Build:
    return Build(id=1, project="p", number=1, state=BuildState.QUEUED, parameters={},
                 queued_at=T0, fail_fast=fail_fast, actions=tuple(actions),
                 jobs=tuple(JobRecord(n) for n in range(jobs)))


def started(b: Build, worker: str = "w1") -> tuple[Traced, list[tuple[object, ...]]]:
    s = Traced()
    s.add_worker(worker)
    return s, shape(s.enqueue(b, T0) + s.worker_ready(worker, T0))


def seen(s: Scheduler, b: Build) -> list[tuple[str, str | None]]:
    assert isinstance(s, Traced)
    return [(a.state.value, a.message) for a in s.now(b).actions]


# planned skips ----------------------------------------------------------------------------


def test_an_action_skipped_at_plan_time_is_never_dispatched() -> None:
    b = build_of(act(), act(skipped=PLANNED), act())
    s, out = started(b)
    assert out == [("save", 1, (0,)), ("dispatch", "w1", 1, 0)]
    assert shape(s.action_exited(1, 0, OK, T1)) == [("save", 1, (0, 2)),
                                                    ("dispatch", "w1", 1, 2)]
    assert shape(s.action_exited(1, 2, OK, T2)) == [("save", 1, (2,)), ("finished", 1)]
    assert seen(s, b) == [("succeeded", None), ("skipped", PLANNED), ("succeeded", None)]
    assert s.now(b).state is BuildState.SUCCEEDED


def test_a_build_whose_actions_are_all_skipped_succeeds_at_once_without_a_worker() -> None:
    s = Traced()
    b = build_of(act(skipped=PLANNED), act(skipped=PLANNED), act("failure"))
    assert shape(s.enqueue(b, T1)) == [("save", 1, (2,)), ("finished", 1)]
    done = s.now(b)
    assert (done.state, done.worker, done.started_at, done.finished_at) == (
        BuildState.SUCCEEDED, None, T1, T1)
    assert seen(s, b) == [("skipped", PLANNED), ("skipped", PLANNED),
                          ("skipped", NOTHING_FAILED)]
    assert s.queued() == () and s.running_ids() == ()


def test_a_skipped_local_action_does_not_keep_a_build_from_a_remote_worker() -> None:
    s = Traced()
    s.add_worker("remote", WorkerInfo("remote"))
    b = build_of(act(), act(skipped=PLANNED, local=True))
    assert shape(s.enqueue(b, T0) + s.worker_ready("remote", T0)) == [
        ("save", 1, (0,)), ("dispatch", "remote", 1, 0)]
    # ...which it would, were the local action to run
    s2 = Traced()
    s2.add_worker("remote", WorkerInfo("remote"))
    b2 = build_of(act(), act(local=True))
    assert s2.enqueue(b2, T0) + s2.worker_ready("remote", T0) == []
    assert s2.waiting(1) is not None


def test_handed_back_the_job_runs_again_but_what_plan_skipped_stays_skipped() -> None:
    b = build_of(act(), act(skipped=PLANNED), act(), act("failure"))
    s, _ = started(b)
    s.action_exited(1, 0, BAD, T1)  # 2 skipped by status, 3 runs
    assert seen(s, b)[2] == ("skipped", AFTER_FAILURE)
    assert shape(s.hand_back(1, 3, T2)) == [("save", 1, (0, 2, 3))]
    assert seen(s, b) == [("pending", None), ("skipped", PLANNED), ("pending", None),
                          ("pending", None)]
    assert shape(s.worker_ready("w2", T3)) == [("save", 1, (0,)), ("dispatch", "w2", 1, 0)]


# status ------------------------------------------------------------------------------------


def test_after_a_failure_only_the_actions_that_say_failure_run_in_order() -> None:
    b = build_of(act(), act(), act("failure"), act(), act(["success", "failure"]), act())
    s, _ = started(b)
    out = s.action_exited(1, 0, OK, T1)
    assert shape(out) == [("save", 1, (0, 1)), ("dispatch", "w1", 1, 1)]
    out = s.action_exited(1, 1, BAD, T1)
    assert shape(out) == [("save", 1, (1, 2)), ("dispatch", "w1", 1, 2)]
    assert s.now(b).state is BuildState.RUNNING
    assert shape(s.action_exited(1, 2, OK, T2)) == [("save", 1, (2, 3, 4)),
                                                    ("dispatch", "w1", 1, 4)]
    assert shape(s.action_exited(1, 4, OK, T3)) == [("save", 1, (4, 5)), ("finished", 1)]
    assert seen(s, b) == [
        ("succeeded", None), ("failed", "exit status 2"), ("succeeded", None),
        ("skipped", AFTER_FAILURE), ("succeeded", None), ("skipped", AFTER_FAILURE)]
    done = s.now(b)
    assert (done.state, done.jobs[0].state, done.finished_at) == (
        BuildState.FAILED, BuildState.FAILED, T3)


def test_status_failure_actions_are_skipped_when_nothing_failed() -> None:
    b = build_of(act("failure"), act(), act("failure"), act(["failure", "success"]),
                 act("failure"))
    s, out = started(b)
    assert out == [("save", 1, (0, 1)), ("dispatch", "w1", 1, 1)]
    assert shape(s.action_exited(1, 1, OK, T1)) == [("save", 1, (1, 2, 3)),
                                                    ("dispatch", "w1", 1, 3)]
    assert shape(s.action_exited(1, 3, OK, T2)) == [("save", 1, (3, 4)), ("finished", 1)]
    assert seen(s, b) == [
        ("skipped", NOTHING_FAILED), ("succeeded", None), ("skipped", NOTHING_FAILED),
        ("succeeded", None), ("skipped", NOTHING_FAILED)]
    assert s.now(b).state is BuildState.SUCCEEDED


def test_a_failing_cleanup_fails_too_and_the_next_cleanup_still_runs() -> None:
    b = build_of(act(), act("failure"), act("failure"))
    s, _ = started(b)
    s.action_exited(1, 0, BAD, T1)
    assert shape(s.action_exited(1, 1, Outcome(exit_code=1, duration=0.1, message="oops"),
                                 T2)) == [("save", 1, (1, 2)), ("dispatch", "w1", 1, 2)]
    assert shape(s.action_exited(1, 2, OK, T3)) == [("save", 1, (2,)), ("finished", 1)]
    assert seen(s, b) == [("failed", "exit status 2"), ("failed", "oops"), ("succeeded", None)]
    assert s.now(b).state is BuildState.FAILED


def test_a_failure_with_no_cleanup_ends_the_job_at_once() -> None:
    b = build_of(act(), act(), act(skipped=PLANNED))
    s, _ = started(b)
    assert shape(s.action_exited(1, 0, BAD, T1)) == [("save", 1, (0, 1, 2)), ("finished", 1)]
    assert seen(s, b) == [("failed", "exit status 2"), ("skipped", AFTER_FAILURE),
                          ("skipped", PLANNED)]


def test_a_log_that_cannot_be_written_is_a_failure_cleanups_run_after() -> None:
    b = build_of(act(), act(), act("failure"))
    s, _ = started(b)
    s.log_failed(1, "no space left on device", 0)
    assert shape(s.action_exited(1, 0, OK, T1)) == [("save", 1, (0, 1, 2)),
                                                    ("dispatch", "w1", 1, 2)]
    assert seen(s, b)[0] == ("failed", "cannot write the build's log: no space left on device")


def test_a_timeout_stops_the_job_without_cleanups() -> None:
    b = build_of(act(skipped=PLANNED), act(), act("failure"))
    s, out = started(b)
    assert out == [("save", 1, (1,)), ("dispatch", "w1", 1, 1)]
    timed_out = Outcome(exit_code=None, duration=5.0, message="timed out after 5 s",
                        timed_out=True)
    assert shape(s.action_exited(1, 1, timed_out, T1)) == [("save", 1, (1, 2)), ("finished", 1)]
    assert seen(s, b) == [("skipped", PLANNED), ("failed", "timed out after 5 s"),
                          ("skipped", None)]
    # the controller's own timeout too
    b = build_of(act(skipped=PLANNED), act(), act("failure"))
    s, _ = started(b)
    decisions = s.timed_out(1, 1, T2)
    assert [d for d in shape(decisions) if d[0] != "kill"] == [("save", 1, (1, 2)),
                                                              ("finished", 1)]


def test_cancelling_during_a_cleanup_runs_no_more() -> None:
    b = build_of(act(), act("failure"), act("failure"))
    s, _ = started(b)
    s.action_exited(1, 0, BAD, T1)
    assert shape(s.cancel(1, T2)) == [("kill", "w1", 1)]
    assert shape(s.action_exited(1, 1, OK, T3)) == [("save", 1, (1, 2)), ("finished", 1)]
    assert seen(s, b) == [("failed", "exit status 2"), ("cancelled", "cancelled"),
                          ("skipped", None)]
    assert s.now(b).state is BuildState.CANCELLED


# jobs --------------------------------------------------------------------------------------


def matrix(fail_fast: bool) -> Build:
    return build_of(*(act(job=j, status=status, index=i) for j in range(3)
                      for i, status in enumerate((None, "failure"))),
                    jobs=3, fail_fast=fail_fast)


def test_fail_fast_cancels_the_other_jobs_at_the_first_failure_and_the_cleanup_runs() -> None:
    b = matrix(fail_fast=True)
    s = Traced()
    s.enqueue(b, T0)
    assert shape(s.worker_ready("w1", T0) + s.worker_ready("w2", T0)) == [
        ("save", 1, (0,)), ("dispatch", "w1", 1, 0), ("save", 1, (2,)),
        ("dispatch", "w2", 1, 2)]
    # job 0 fails: job 2 (queued) is cancelled, job 1 is killed, job 0's cleanup runs
    assert shape(s.action_exited(1, 0, BAD, T1)) == [
        ("save", 1, (0, 1, 4, 5)), ("dispatch", "w1", 1, 1), ("kill", "w2", 1)]
    assert [j.state for j in s.now(b).jobs] == [BuildState.RUNNING, BuildState.RUNNING,
                                                BuildState.CANCELLED]
    assert shape(s.action_exited(1, 2, OK, T2))[-1] != ("finished", 1)
    assert shape(s.action_exited(1, 1, OK, T3))[-1] == ("finished", 1)
    done = s.now(b)
    assert [j.state for j in done.jobs] == [BuildState.FAILED, BuildState.CANCELLED,
                                            BuildState.CANCELLED]
    assert done.state is BuildState.FAILED
    assert [(a.state.value, a.message) for a in done.actions[:2]] == [
        ("failed", "exit status 2"), ("succeeded", None)]


def test_without_fail_fast_the_other_jobs_go_on() -> None:
    b = matrix(fail_fast=False)
    s = Traced()
    s.enqueue(b, T0)
    s.worker_ready("w1", T0)
    s.worker_ready("w2", T0)
    assert shape(s.action_exited(1, 0, BAD, T1)) == [("save", 1, (0, 1)),
                                                     ("dispatch", "w1", 1, 1)]
    assert shape(s.action_exited(1, 2, OK, T1)) == [("save", 1, (2, 3)), ("job ended", 1)]
    assert seen(s, b)[3] == ("skipped", NOTHING_FAILED)


def test_a_job_with_nothing_to_run_ends_at_once_and_the_build_starts_with_the_next() -> None:
    b = build_of(act(job=0, skipped=PLANNED), act(job=1), jobs=2)
    s = Traced()
    assert shape(s.enqueue(b, T0)) == [("save", 1, ()), ("job ended", 0)]
    assert (s.now(b).state, [j.state for j in s.now(b).jobs]) == (
        BuildState.QUEUED, [BuildState.SUCCEEDED, BuildState.QUEUED])
    out = s.worker_ready("w1", T1)
    assert shape(out) == [("save", 1, (1,)), ("dispatch", "w1", 1, 1)]
    assert out[1].starts_build  # type: ignore[union-attr]
    assert (s.now(b).state, s.now(b).started_at, s.now(b).worker) == (
        BuildState.RUNNING, T1, "w1")
    assert shape(s.action_exited(1, 1, OK, T2)) == [("save", 1, (1,)), ("finished", 1)]
    assert s.now(b).state is BuildState.SUCCEEDED
