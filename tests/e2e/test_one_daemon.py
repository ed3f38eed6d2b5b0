"""One `ick serve` per state directory: a second one leaves the first alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.daemon import Daemon
from tests.procs import alive, wait_named

LONG = """
projects:
  - project: long
    pipelines: [long]
pipelines:
  - pipeline: long
    actions:
      - shell: 'echo started; exec -a {marker} sleep 300'
        where: host
"""


def test_a_second_serve_on_the_same_state_exits_at_once_and_changes_nothing(
    daemon: Daemon, tmp_path: Path,
) -> None:
    marker = f"ick-test-{tmp_path.name}"
    daemon.apply(LONG.format(marker=marker))
    build_id = daemon.trigger("long")
    daemon.wait_log(build_id, "started")
    pid = wait_named(marker)
    before = sorted(p.name for p in daemon.state_dir.iterdir())
    assert daemon.proc is not None
    result = subprocess.run(
        [sys.executable, "-m", "ick", "serve", "--listen", "127.0.0.1:0",
         "--state-dir", str(daemon.state_dir)],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 1
    assert result.stderr == (f"ick: {daemon.state_dir} is in use by another ick serve "
                             f"(pid {daemon.proc.pid})\n")
    assert alive(pid)
    assert daemon.build(build_id)["state"] == "running"
    assert sorted(p.name for p in daemon.state_dir.iterdir()) == before
    assert daemon.ick("cancel", str(build_id)).returncode == 0
    assert daemon.wait_build(build_id)["state"] == "cancelled"
