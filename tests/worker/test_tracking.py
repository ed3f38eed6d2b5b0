"""A remote worker's records of what runs (ick/worker/tracking.py): kept where they are
cheap to write (its run root), and at the next start every record is read, also those an
earlier version kept in STATE/actions, and the groups they name are killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ick.worker.tracking import ActionTracker


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def sleeper(procs: list[subprocess.Popen[bytes]], build: int) -> int:
    """A group leader as an action of `build` starts one (with its build id)."""
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True,
                            env={"PATH": os.environ["PATH"], "ICK_BUILD_ID": str(build)})
    procs.append(proc)
    return proc.pid


def test_records_live_in_the_run_root_and_old_ones_are_read_too(
        tmp_path: Path, procs: list[subprocess.Popen[bytes]]) -> None:
    state, runs = tmp_path / "state", tmp_path / "runs"
    tracker = ActionTracker(state, runs / "actions")
    with tracker.track(7, 0):
        tracker.started(7, 0)(pid := sleeper(procs, 7))
        [record] = (runs / "actions").glob("*.json")
        assert json.loads(record.read_text()) == {"build": 7, "seq": 0, "pids": [pid]}
    assert list((runs / "actions").glob("*.json")) == []  # gone when the action ends

    # Left by a worker killed meanwhile: one record here, one where versions before kept them.
    ours, old = sleeper(procs, 8), sleeper(procs, 9)
    (runs / "actions" / "8-0.json").write_text(json.dumps({"build": 8, "seq": 0, "pids": [ours]}))
    (state / "actions").mkdir(parents=True, exist_ok=True)
    (state / "actions" / "9-1.json").write_text(json.dumps({"build": 9, "seq": 1, "pids": [old]}))
    assert ActionTracker(state, runs / "actions").kill_leftovers() == 2
    assert procs[1].wait(30) == procs[2].wait(30) == -signal.SIGKILL
    assert list((runs / "actions").glob("*.json")) == list((state / "actions").glob("*")) == []
