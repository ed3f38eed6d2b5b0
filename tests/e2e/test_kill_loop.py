"""Kill -9 at random moments, round after round: every acknowledged build is still there,
none stays running, logs are kept, numbers never repeat, and no process is left behind."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.daemon import FINISHED, Daemon
from tests.procs import pids_named, wait_none_named

ROUNDS = 4
BUILDS_PER_ROUND = 6

BUSY = """
projects:
  - project: busy
    concurrent: true
    parameters: {{marker: {marker}}}
    pipelines: [busy]
  - project: lone
    parameters: {{marker: {marker}}}
    pipelines: [busy]
pipelines:
  - pipeline: busy
    parameters: [marker]
    actions:
      - shell: |
          echo "build $ICK_BUILD_ID starts"
          (exec -a {marker}-child sleep 30) &
          sleep 0.$((RANDOM % 4))
          echo "build $ICK_BUILD_ID first action done"
        where: host
      - shell: sleep 0.$((RANDOM % 3)); echo "build $ICK_BUILD_ID done"
        where: host
"""


def test_builds_survive_kill_9_at_random_moments(
    start_daemon: Callable[..., Daemon], tmp_path: Path,
) -> None:
    chance = random.Random(1234)  # the same moments every run
    marker = f"ick-test-{tmp_path.name}"
    daemon = start_daemon(workers=2)
    daemon.apply(BUSY.format(marker=marker))
    acknowledged: list[int] = []
    for _ in range(ROUNDS):
        for i in range(BUILDS_PER_ROUND):
            acknowledged.append(daemon.trigger("busy" if i % 3 else "lone"))
        time.sleep(chance.uniform(0.0, 1.0))  # the random moment, not a wait for state
        assert daemon.stop(signal.SIGKILL) == -signal.SIGKILL
        daemon.start()
        # Right after the restart nothing from before the kill is running any more.
        for build_id in acknowledged:
            doc = daemon.build(build_id)
            assert doc["state"] in (*FINISHED, "queued", "running"), doc
    docs = [daemon.wait_build(build_id, timeout=120) for build_id in acknowledged]
    assert [d["id"] for d in docs] == acknowledged
    numbers = [(d["project"], d["number"]) for d in docs]
    assert len(set(numbers)) == len(numbers), f"a number was given twice: {numbers}"
    interrupted = [d for d in docs if d["state"] == "interrupted"]
    assert interrupted, "no kill landed while a build ran: the test proves nothing"
    assert all(d["state"] in ("succeeded", "interrupted") for d in docs), docs
    for doc in docs:
        log = (daemon.state_dir / "logs" / f"{doc['id']}.log").read_text()
        if doc["state"] == "interrupted" and doc["started_at"]:
            # Its action's header comes before anything it printed. A kill between the
            # commit that stored its start and the header (written as the action is handed
            # to its worker) leaves neither: nothing of it ran, so nothing is missing.
            if f"build {doc['id']} starts" in log:
                assert "====" in log and \
                    log.index("====") < log.index(f"build {doc['id']} starts"), log
            assert "ick: the daemon stopped while this build ran" in log
        if doc["state"] == "succeeded":
            assert f"build {doc['id']} done" in log
    daemon.stop()
    wait_none_named(f"{marker}-child")
    assert pids_named(f"{marker}-child") == []
