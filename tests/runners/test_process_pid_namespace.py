"""Host actions run in their own PID namespace: nothing they start outlives them, however it
detached (setsid, a double fork, `env -i`), whether the action ends, is cancelled, times out,
or the daemon is killed and restarted."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.procs import pids_named

DETACHING = """
projects:
  - project: ends
    pipelines: [detach]
    parameters: {hold: "no", marker: none}
  - project: holds
    pipelines: [detach]
    parameters: {hold: "yes", marker: none}
  - project: times_out
    pipelines: [detach_timeout]
    parameters: {hold: "yes", marker: none}
pipelines:
  - pipeline: detach
    parameters: [marker, hold]
    actions:
      - shell: &detach |
          eval "$(params | python3 -c 'import json, sys; d = json.load(sys.stdin)
          print("m=" + d["marker"], "hold=" + d["hold"])')"
          setsid bash -c "exec -a $m-setsid /bin/sleep 300" &
          setsid env -i /bin/bash -c "exec -a $m-envi /bin/sleep 300" >/dev/null 2>&1 </dev/null &
          ( ( exec -a $m-double /bin/sleep 300 & ) & )
          while [ "$(pgrep -fc "^$m-")" -lt 3 ]; do sleep 0.01; done
          echo started
          if [ "$hold" = yes ]; then exec -a $m-main /bin/sleep 300; fi
        where: host
  - pipeline: detach_timeout
    parameters: [marker, hold]
    actions:
      - shell: *detach
        where: host
        timeout: 2
"""
DETACHED = ("setsid", "envi", "double")


def named(marker: str) -> list[str]:
    return [kind for kind in (*DETACHED, "main") if pids_named(f"{marker}-{kind}")]


def wait_none_left(marker: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while left := named(marker):
        assert time.monotonic() < deadline, f"still running after the action: {left}"
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["ends", "cancel", "timeout", "restart"])
def test_nothing_a_host_action_starts_outlives_it(
    start_daemon: Callable[..., Daemon], tmp_path: Path, how: str,
) -> None:
    daemon = start_daemon()
    daemon.apply(DETACHING)
    marker = f"ick-test-{tmp_path.name}"
    project = {"ends": "ends", "cancel": "holds", "timeout": "times_out",
               "restart": "holds"}[how]
    build_id = daemon.trigger(project, f"marker={marker}")
    daemon.wait_log(build_id, "started")
    if how == "ends":
        assert daemon.wait_build(build_id)["state"] == "succeeded"
    elif how == "cancel":
        assert daemon.ick("cancel", str(build_id)).returncode == 0
        assert daemon.wait_build(build_id)["state"] == "cancelled"
    elif how == "timeout":
        build = daemon.wait_build(build_id)
        assert build["actions"][0]["message"] == "timed out after 2 s"
    else:
        assert set(named(marker)) == {*DETACHED, "main"}
        daemon.stop(signal.SIGKILL)
        assert set(named(marker)) == {*DETACHED, "main"}, "the test needs them alive here"
        daemon.start()
        assert daemon.wait_build(build_id)["state"] == "interrupted"
    wait_none_left(marker)


HANGING = """
projects:
  - project: hang_py
    pipelines: [hang_py]
  - project: hang_sh
    pipelines: [hang_sh]
pipelines:
  - pipeline: hang_py
    actions:
      - python: |
          import time
          print("started", flush=True)
          time.sleep(300)
        where: host
        timeout: 1
  - pipeline: hang_sh
    actions:
      - shell: echo started; while true; do sleep 1; done
        where: host
        timeout: 1
"""


@pytest.mark.parametrize("project", ["hang_py", "hang_sh"])
def test_a_timeout_ends_pid_1_at_its_sigterm_not_the_later_sigkill(
    daemon: Daemon, project: str,
) -> None:
    daemon.apply(HANGING)
    build = daemon.wait_build(daemon.trigger(project))
    action = build["actions"][0]
    assert action["message"] == "timed out after 1 s"
    # SIGTERM did it, not SIGKILL after the grace (how long it took: bench/stops.py).
    assert action["exit_code"] == 128 + signal.SIGTERM
