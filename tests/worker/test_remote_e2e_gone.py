"""End to end: a remote worker gone without a word. Killed while idle, the action handed to
it is queued again at once; restarted, it replaces its old registration."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from tests.daemon import Daemon
from tests.polling import poll
from tests.remote import RemoteWorker

QUICK = """
projects:
  - project: quick
    pipelines: [quick]
  - project: pair
    concurrent: true
    pipelines: [pair]
  - project: stuck
    pipelines: [stuck]
pipelines:
  - pipeline: quick
    actions:
      - shell: "true"
        where: host
  - pipeline: pair
    actions:
      - shell: sleep 1
        where: host
  - pipeline: stuck
    actions:
      - shell: echo started; sleep 303
        where: host
"""


def named(daemon: Daemon, name: str) -> list[dict[str, object]]:
    status, docs = daemon.api("GET", "/workers")
    assert status == 200, docs
    return [d for d in docs if d["name"] == name]


def test_an_action_for_a_worker_killed_while_idle_runs_on_a_live_one_at_once(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker]) -> None:
    daemon = start_daemon(workers=0)  # a lease of 60 s: far longer than the waits below
    daemon.apply(QUICK)
    doomed = workers(daemon, "doomed")
    doomed.wait_registered()
    # Its build done, it waits in a long poll for the next one.
    assert daemon.wait_build(daemon.trigger("quick"), timeout=30)["state"] == "succeeded"
    spare = workers(daemon, "spare")
    spare.wait_registered()
    doomed.stop(signal.SIGKILL)
    # Two at once: whichever of the two idle workers the first goes to, one of them is
    # offered to the dead one, whose long poll's connection has closed.
    ids = [daemon.trigger("pair"), daemon.trigger("pair")]
    for build_id in ids:
        doc = daemon.wait_build(build_id, timeout=30)
        assert doc["state"] == "succeeded", daemon.ick("log", str(build_id)).stdout
        assert str(doc["worker"]).startswith("spare-")
    assert "is gone (its long poll closed)" in daemon.log_path.read_text()


def test_a_worker_restarted_after_a_kill_replaces_its_old_registration(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker]) -> None:
    daemon = start_daemon(workers=0)  # a lease of 60 s: the old one would stay that long
    daemon.apply(QUICK)
    worker = workers(daemon, "phoenix")
    old = worker.wait_registered()["worker"]
    build_id = daemon.trigger("stuck")
    daemon.wait_log(build_id, "started", timeout=60)
    worker.stop(signal.SIGKILL)
    worker.start()
    listed = poll(lambda: named(daemon, "phoenix"),
                  lambda found: len(found) == 1 and found[0]["worker"] != old, 30,
                  lambda found: f"workers named phoenix: {found}; {worker.log()[-2000:]}")
    assert listed[0]["running"] == []
    doc = daemon.wait_build(build_id, timeout=30)
    assert doc["state"] == "interrupted"
    assert doc["actions"][0]["message"] == f"worker {old} went away: it registered again"
    assert daemon.wait_build(daemon.trigger("quick"), timeout=30)["state"] == "succeeded"
    assert len(named(daemon, "phoenix")) == 1


def test_two_live_workers_under_one_name_and_token_both_stay(
        start_daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    """Only a worker started again (its state directory's key) replaces its registration:
    two `ick worker`s on one host with one token and the host's name both work."""
    daemon = start_daemon(workers=0)
    daemon.apply(QUICK)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = RemoteWorker(daemon, tmp_path / "a", "twin")
    second = RemoteWorker(daemon, tmp_path / "b", "twin", token=first.token_file.read_text()
                          .strip())
    try:
        first.start()
        second.start()
        both = poll(lambda: named(daemon, "twin"), lambda found: len(found) == 2, 30,
                    lambda found: f"workers named twin: {found}; {second.log()[-2000:]}")
        # Each goes on registered: neither pushed the other out.
        builds = [daemon.trigger("pair") for _ in range(4)]
        for build_id in builds:
            assert daemon.wait_build(build_id, timeout=60)["state"] == "succeeded"
        assert {d["worker"] for d in named(daemon, "twin")} == {d["worker"] for d in both}
        assert "registered again" not in daemon.log_path.read_text()
    finally:
        for worker in (first, second):
            if worker.proc is not None:
                worker.stop(signal.SIGKILL)
