"""A remote worker's records of what runs (ick/worker/tracking.py): kept where they are
cheap to write (its run root), and at the next start every record is read, also those an
earlier version kept in STATE/actions, and the groups they name are killed."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from ick.worker.tracking import ActionTracker
from tests.procs import sleeper


def test_records_live_in_the_run_root_and_old_ones_are_read_too(
        tmp_path: Path, procs: list[subprocess.Popen[bytes]]) -> None:
    state, runs = tmp_path / "state", tmp_path / "runs"
    tracker = ActionTracker(state, runs / "actions")
    with tracker.track(7, 0):
        tracker.started(7, 0)(pid := sleeper(procs, {"ICK_BUILD_ID": "7"}))
        [record] = (runs / "actions").glob("*.json")
        assert json.loads(record.read_text()) == {"build": 7, "seq": 0, "pids": [pid]}
    assert list((runs / "actions").glob("*.json")) == []  # gone when the action ends

    # Left by a worker killed meanwhile: one record here, one where versions before kept them.
    ours, old = sleeper(procs, {"ICK_BUILD_ID": "8"}), sleeper(procs, {"ICK_BUILD_ID": "9"})
    (runs / "actions" / "8-0.json").write_text(json.dumps({"build": 8, "seq": 0, "pids": [ours]}))
    (state / "actions").mkdir(parents=True, exist_ok=True)
    (state / "actions" / "9-1.json").write_text(json.dumps({"build": 9, "seq": 1, "pids": [old]}))
    assert ActionTracker(state, runs / "actions").kill_leftovers() == 2
    assert procs[1].wait(30) == procs[2].wait(30) == -signal.SIGKILL
    assert list((runs / "actions").glob("*.json")) == list((state / "actions").glob("*")) == []
