"""End to end: stopping the daemon cleanly (SIGTERM) and killing it (SIGKILL) mid-build."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from tests.daemon import Daemon
from tests.procs import alive, wait_dead, wait_named

SLOW = """
projects:
  - project: slow
    pipelines: [slow]
  - project: quick
    pipelines: [quick]
pipelines:
  - pipeline: slow
    actions:
      - shell: |
          (exec -a {marker} sleep 300) &
          echo "before the crash"
          sleep 300
        where: host
      - shell: echo never
        where: host
  - pipeline: quick
    actions:
      - shell: echo quick ran
        where: host
"""


def test_sigkill_mid_build_then_restart(start_daemon: Callable[..., Daemon],
                                        tmp_path: Path) -> None:
    marker = f"ick-test-{tmp_path.name}"
    daemon = start_daemon(workers=1)
    daemon.apply(SLOW.format(marker=marker))
    running = daemon.trigger("slow")
    queued = daemon.trigger("quick")
    daemon.wait_log(running, "before the crash")
    leftover = wait_named(marker)
    assert daemon.stop(signal.SIGKILL) == -signal.SIGKILL
    assert alive(leftover), "a SIGKILLed daemon cannot kill its children: the test needs one"

    daemon.start()
    assert wait_dead(leftover), "the restarted daemon left the dead build's process running"
    doc = daemon.wait_build(running)
    assert doc["state"] == "interrupted"
    assert [a["state"] for a in doc["actions"]] == ["interrupted", "skipped"]
    log = daemon.ick("log", str(running)).stdout
    assert "before the crash\n" in log
    assert "ick: the daemon stopped while this build ran\n" in log
    assert daemon.wait_build(queued)["state"] == "succeeded"
    assert "quick ran" in daemon.ick("log", str(queued)).stdout


def test_sigterm_interrupts_running_builds_and_keeps_the_queue(
        start_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    marker = f"ick-test-{tmp_path.name}"
    daemon = start_daemon(workers=1)
    daemon.apply(SLOW.format(marker=marker))
    running = daemon.trigger("slow")
    queued = daemon.trigger("quick")
    daemon.wait_log(running, "before the crash")
    child = wait_named(marker)
    assert daemon.stop(signal.SIGTERM) == 0
    assert wait_dead(child), "SIGTERM left the build's processes running"
    daemon.start()
    doc = daemon.build(running)
    assert doc["state"] == "interrupted"
    assert doc["actions"][0]["state"] == "interrupted"
    assert doc["actions"][0]["message"] == "the daemon stopped"
    assert daemon.wait_build(queued)["state"] == "succeeded"


def test_acknowledged_builds_survive_sigkill(start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon(workers=1)
    daemon.apply("""
projects:
  - project: many
    concurrent: true
    pipelines: [p]
pipelines:
  - pipeline: p
    actions:
      - shell: "true"
        where: host
""")
    ids = [daemon.trigger("many") for _ in range(30)]
    daemon.stop(signal.SIGKILL)
    daemon.start()
    states = {daemon.wait_build(b)["state"] for b in ids}
    assert states <= {"succeeded", "interrupted"}
    builds = daemon.api("GET", "/builds?limit=100")[1]
    assert sorted(b["id"] for b in builds) == sorted(ids)
