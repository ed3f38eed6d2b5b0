"""The build log writer (ick/scheduler/buildlog.py): which log each line goes to, and the
lines that open and close a build's and its jobs' logs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ick.model import ActionRecord, ActionState, Build, BuildState, JobRecord
from ick.scheduler.buildlog import BuildLog
from ick.scheduler.machine import Outcome
from ick.storage.logs import LogStore


def build(jobs: int = 1, state: BuildState = BuildState.SUCCEEDED,
          job_states: tuple[BuildState, ...] = ()) -> Build:
    return Build(
        id=5, project="p", number=1, state=state, parameters={}, queued_at="t0",
        jobs=[JobRecord(n, state=(job_states or (state,) * jobs)[n]) for n in range(jobs)],
        actions=[ActionRecord("pl", 0, "shell", "host", {}, ActionState.PENDING, job=n)
                 for n in range(jobs)],
    )


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[LogStore]:
    store = LogStore(tmp_path / "logs")
    yield store
    store.close_all()


def test_a_build_with_one_job_writes_everything_into_its_own_log(logs: LogStore) -> None:
    writer = BuildLog(logs)
    b = build()
    writer.open(b)
    writer.action_starts(b, 0)
    writer.output(b.id, 0, b"hi\n")
    writer.say(b.id, 0, "something to say")
    writer.action_ended(b.id, 0, Outcome(0, 1.5))
    writer.handed_back(b.id, 0, "w1", 0)
    writer.finished(b)
    assert logs.path(5).read_text() == (
        "==== [1/1] pipeline pl, action 1: shell (where: host)\n"
        "hi\n"
        "ick: something to say\n"
        "---- exit code 0, 1.50 s\n"
        "ick: worker w1 stopped and handed back action 1: the build is queued again and runs "
        "from its first action on another worker\n"
        "ick: build 5 succeeded\n")
    assert not logs.is_live(5)


def test_each_job_writes_its_own_log_until_it_ends(logs: LogStore) -> None:
    writer = BuildLog(logs)
    b = build(jobs=2, state=BuildState.FAILED,
              job_states=(BuildState.SUCCEEDED, BuildState.FAILED))
    writer.open(b)
    writer.say(b.id, 1, "job one speaks")
    writer.handed_back(b.id, 1, "w1", 1)
    writer.job_ended(b, 0)
    assert not logs.is_live(5, 0) and logs.is_live(5, 1)
    writer.say(b.id, 0, "late")  # its log has closed: the build's takes it
    writer.finished(b)
    assert logs.path(5, 0).read_text() == "ick: job 0 succeeded\n"
    assert logs.path(5, 1).read_text() == (
        "ick: job one speaks\n"
        "ick: worker w1 stopped and handed back action 2: the job is queued again and runs "
        "from its first action on another worker\n"
        "ick: job 1 failed\n")
    assert logs.path(5).read_text() == "ick: late\nick: failed: job 1\nick: build 5 failed\n"
    assert not any(logs.is_live(5, key) for key in (None, 0, 1))


def test_a_build_found_running_after_a_restart_says_so(logs: LogStore) -> None:
    writer = BuildLog(logs)
    b = build(state=BuildState.RUNNING)
    writer.recovered(b)
    assert logs.is_live(5)
    assert logs.path(5).read_text() == "ick: the daemon stopped while this build ran\n"
