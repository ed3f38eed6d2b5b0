"""`ick worker` says at INFO when it registers, takes an action and ends one; the daemon's own
workers keep those lines at DEBUG (issue 22, finding 17: it printed nothing)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.daemon import Daemon
from tests.polling import poll
from tests.remote import RemoteWorker

ICK = """
projects:
  - project: lines
    pipelines: [p]
pipelines:
  - pipeline: p
    actions:
      - shell: "true"
        where: host
      - shell: "exit 3"
        where: host
"""


def test_a_remote_worker_says_what_it_does(start_daemon: Callable[..., Daemon],
                                           tmp_path: Path) -> None:
    daemon = start_daemon(workers=0)
    daemon.apply(ICK)
    worker = RemoteWorker(daemon, tmp_path, "w1", "--label", "kvm=yes").start()
    try:
        worker_id = worker.wait_registered()["worker"]
        build_id = daemon.trigger("lines")
        assert daemon.wait_build(build_id, timeout=60)["state"] == "failed"
        poll(worker.log, lambda text: "action 2/2 (shell) of lines done" in text, 30,
             lambda text: f"no end of action 2 in: {text[-2000:]}")
    finally:
        worker.stop()
    log = worker.log()
    assert re.search(rf"INFO ick\.worker\.worker: worker w1: registered with "
                     rf"{re.escape(daemon.url)} as {worker_id} \(1 slots, labels "
                     rf"arch=\S+ host=\S+ kvm=yes\)", log), log
    assert f"worker w1: build {build_id} action 1/2 (shell) of lines\n" in log
    assert re.search(rf"worker w1: build {build_id} action 1/2 \(shell\) of lines done: "
                     r"succeeded in \d+\.\d s", log), log
    assert re.search(rf"worker w1: build {build_id} action 2/2 \(shell\) of lines done: "
                     r"failed in \d+\.\d s", log), log


def test_the_daemon_s_own_workers_stay_quiet(start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon(workers=1)
    daemon.apply(ICK)
    build_id = daemon.trigger("lines")
    assert daemon.wait_build(build_id, timeout=60)["state"] == "failed"
    assert "action 1/2 (shell) of lines" not in daemon.log_tail()
