"""Benchmark: how long ick takes to stop what it runs, each on a real daemon.

Prints (1) the wall time of `ick trigger --wait` for a build whose first action leaves a
setsid process behind (it must not wait for it), (2) the duration of an action that hangs
past its 1 s timeout (SIGTERM ends it; SIGKILL would come KILL_GRACE later), and (3) the time
a remote `ick worker` takes to exit at SIGTERM with an action running (it hands the action
back at once). These were time limits inside tests/e2e/test_e2e_builds.py,
tests/runners/test_process_pid_namespace.py and tests/worker/test_remote_e2e.py.
Usage: python bench/stops.py
"""

from __future__ import annotations

import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ick.runners.process import KILL_GRACE  # noqa: E402
from tests.daemon import Daemon  # noqa: E402
from tests.remote import RemoteWorker  # noqa: E402

ICK = """
projects:
  - project: escape
    pipelines: [escape]
  - project: hang
    pipelines: [hang]
  - project: slow
    pipelines: [slow]
pipelines:
  - pipeline: escape
    actions:
      - shell: |
          setsid bash -c 'exec sleep 300' &
          echo "left a process behind"
        where: host
      - shell: echo next
        where: host
  - pipeline: hang
    actions:
      - shell: echo started; while true; do sleep 1; done
        where: host
        timeout: 1
  - pipeline: slow
    actions:
      - shell: echo started; sleep 301
        where: host
"""


def escape(daemon: Daemon) -> float:
    started = time.monotonic()
    result = daemon.ick("trigger", "escape", "--wait", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return time.monotonic() - started


def timeout(daemon: Daemon) -> float:
    build = daemon.wait_build(daemon.trigger("hang"))
    action = build["actions"][0]
    assert action["message"] == "timed out after 1 s", action
    return float(action["duration"])


def worker_stop(base: Path) -> float:
    daemon = Daemon(base / "remote-state", workers=0).start()
    try:
        daemon.apply(ICK)
        worker = RemoteWorker(daemon, base, "w").start()
        try:
            worker.wait_registered()
            daemon.wait_log(daemon.trigger("slow"), "started")
            started = time.monotonic()
            assert worker.stop(signal.SIGTERM, timeout=600) == 0
            return time.monotonic() - started
        finally:
            if worker.proc is not None and worker.proc.poll() is None:
                worker.stop(signal.SIGKILL)
    finally:
        daemon.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        daemon = Daemon(Path(tmp) / "state", workers=1).start()
        try:
            daemon.apply(ICK)
            print(f"a build whose action leaves a process behind: {escape(daemon):.2f} s "
                  "(trigger --wait, two actions)")
            print(f"an action hanging past its 1 s timeout: {timeout(daemon):.2f} s "
                  f"(SIGKILL would come {KILL_GRACE:g} s after SIGTERM)")
        finally:
            daemon.stop()
        print(f"a remote worker at SIGTERM with an action running: exits in "
              f"{worker_stop(Path(tmp)):.2f} s")


if __name__ == "__main__":
    main()
