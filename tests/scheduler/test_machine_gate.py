"""The machine and the gate (ick/scheduler/machine.py): one candidate per target at a time,
in push order; the target is held from a candidate's end until the gate has decided it; a
candidate tested again goes before the target's later ones."""

from __future__ import annotations

from ick.model import ActionRecord, Build, BuildState, GateFacts
from ick.scheduler.machine import Dispatch, Finished, Outcome, Scheduler

T0 = "2024-01-01T00:00:00.000Z"
OK = Outcome(exit_code=0, duration=0.5)


def candidate(build_id: int, target: str = "main", order: int | None = None,
              project: str = "p") -> Build:
    return Build(id=build_id, project=project, number=build_id, state=BuildState.QUEUED,
                 parameters={}, queued_at=T0, concurrent=True,
                 actions=[ActionRecord(pipeline="pl", index=0, kind="shell", where="host",
                                       spec={"shell": "true"})],
                 gate=GateFacts(target, f"c{build_id}", "a" * 40, order=order))


def started(decisions: list[object]) -> list[int]:
    return [d.build.id for d in decisions if isinstance(d, Dispatch)]


def ready(m: Scheduler) -> list[int]:
    """Every worker asks for work again (one that is busy or idle already takes none)."""
    return [i for w in ("w1", "w2", "w3") for i in started(m.worker_ready(w, T0))]


def test_candidates_of_a_target_run_one_at_a_time_in_push_order_and_wait_for_the_gate(
        ) -> None:
    m = Scheduler()
    for worker in ("w1", "w2", "w3"):
        m.add_worker(worker)
        m.worker_ready(worker, T0)
    assert started(m.enqueue(candidate(1), T0)) == [1]
    assert started(m.enqueue(candidate(2), T0)) == []  # behind 1
    assert started(m.enqueue(candidate(3, target="dev"), T0)) == [3]  # another target
    assert started(m.enqueue(candidate(4, project="q"), T0)) == [4]  # another project
    ended = m.action_exited(1, 0, OK, T0)
    assert any(isinstance(d, Finished) for d in ended) and started(ended) == []
    assert ready(m) == []  # 2 waits for the gate's decision
    # the gate has not decided 1 yet; its next attempt goes before 2
    assert started(m.enqueue(candidate(5, order=1), T0)) == []
    assert started(m.gate_released("p", "main", T0)) == [5]
    m.action_exited(5, 0, OK, T0)
    assert ready(m) == []
    assert started(m.gate_released("p", "main", T0)) == [2]


def test_a_restart_s_undecided_gate_is_held_until_released() -> None:
    m = Scheduler()
    m.add_worker("w1")
    m.worker_ready("w1", T0)
    m.gate_hold("p", "main")
    assert started(m.enqueue(candidate(1), T0)) == []
    assert started(m.gate_released("p", "main", T0)) == [1]
