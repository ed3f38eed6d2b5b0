"""End to end: real `ick worker` processes (own state dirs) against a real `ick serve`:
containers, artifacts, routing by labels, SIGTERM and kill -9 mid-action, leases."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.polling import poll, wait_for
from tests.procs import wait_dead
from tests.remote import RemoteWorker


@pytest.fixture(autouse=True)
def no_sleepers_left(tmp_path: Path) -> Iterator[None]:
    """Whatever a failed test left running in its workers' workspaces goes too (the shared
    `workers` fixture stops the workers, their containers and their mounts)."""
    yield
    for pid in pids_running(tmp_path, "sleep", "301") + pids_running(tmp_path, "sleep", "302"):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)  # the action's shell too
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def pids_running(under: Path, *argv: str) -> list[int]:
    """Processes whose command line is exactly argv, run by a build in a workspace under
    `under` (so not another test's)."""
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes() != wanted:
                    continue
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(v.startswith(f"ICK_WORKSPACE={under}/".encode()) for v in environ):
                found.append(int(pid))
    return found


def the_process(find: Callable[..., list[int]], under: Path, *argv: str) -> int:
    """The one process `find(under, *argv)` finds, once it runs (a log line can come first)."""
    found = poll(lambda: find(under, *argv), lambda pids: len(pids) == 1, 30,
                 lambda pids: f"processes {' '.join(argv)}: {pids}")
    return found[0]


CONTAINERS = """
projects:
  - project: inside
    parameters: {systree_name: bookworm_systree, artifact_name: made_remotely}
    pipelines: [inside]
  - project: unpack
    parameters: {workspace_artifact: made_remotely}
    pipelines: [unpack]
pipelines:
  - pipeline: inside
    actions:
      - action: populate_systree
        where: host
      - shell: cat /etc/debian_version > version; echo "debian $(cat version)"
        where: container
      - archive: workspace
        where: host
  - pipeline: unpack
    actions:
      - action: populate_workspace
        where: host
      - shell: echo "unpacked $(cat version)"
        where: host
"""


def test_a_remote_worker_builds_in_a_container_and_stores_an_archive(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker],
        put_bookworm_systree: Callable[..., None], tmp_path: Path) -> None:
    daemon = start_daemon(workers=0)
    put_bookworm_systree(daemon)
    daemon.apply(CONTAINERS)
    remote = workers(daemon, "far")
    remote.wait_registered()
    runs = []
    for _ in range(2):
        build_id = daemon.trigger("inside")
        doc = daemon.wait_build(build_id, timeout=180)
        log = daemon.ick("log", str(build_id)).stdout
        assert doc["state"] == "succeeded", log + remote.log()[-3000:]
        assert doc["worker"].startswith("far-")
        runs.append((doc, log))
    (first, first_log), (second, second_log) = runs
    assert "unpacked) ready" in first_log and "cached) ready" in second_log
    assert first["actions"][0]["cached"] is False and second["actions"][0]["cached"] is True
    assert "debian 12." in first_log
    # The archive went up over the API: the controller has it, with the digest it reports.
    archived = second["actions"][2]
    status, listed = daemon.api("GET", "/artifacts")
    assert {a["name"]: a["digest"] for a in listed}["made_remotely"] == archived["digest"]
    out = tmp_path / "made.tar.zst"
    assert daemon.ick("artifacts", "get", "made_remotely", "-o", str(out)).returncode == 0
    listing = subprocess.run(["tar", "--zstd", "-tf", str(out)], capture_output=True,
                             text=True, check=True).stdout.split()
    assert "./version" in listing
    # And back down into a workspace on the remote worker.
    build_id = daemon.trigger("unpack")
    doc = daemon.wait_build(build_id, timeout=60)
    log = daemon.ick("log", str(build_id)).stdout
    assert doc["state"] == "succeeded", log
    assert "unpacked 12." in log
    # The worker's cache is its own, on its own state dir; nothing stays mounted after.
    assert (remote.state / "systrees").is_dir()
    assert remote.stop() == 0
    mounts = Path("/proc/self/mounts").read_text()
    assert str(remote.state) not in mounts


ROUTING = """
projects:
  - project: kvm
    pipelines: [which]
    worker: {kvm: "yes"}
  - project: plain
    pipelines: [needs-kvm-late]
  - project: pdp
    pipelines: [which]
    worker: {arch: pdp11}  # no qemu emulates it: no worker of this host has it
  - project: publish
    pipelines: [publish]
pipelines:
  - pipeline: which
    actions:
      - shell: echo "ran here"
        where: host
  - pipeline: needs-kvm-late
    actions:
      - shell: echo "anywhere"
        where: host
      - shell: echo "needs kvm"
        where: host
        worker: {kvm: "yes"}
  - pipeline: publish
    actions:
      - action: apt_publish
        where: host
        debs: ["*.deb"]
        distribution: bookworm
"""


def test_labels_route_builds_and_a_build_no_worker_can_take_says_why(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker]) -> None:
    daemon = start_daemon(workers=0)
    daemon.apply(ROUTING)
    kvm = workers(daemon, "kvmbox", "--label", "kvm=yes", "--slots", "2")
    other = workers(daemon, "plainbox")
    kvm.wait_registered()
    other.wait_registered()
    for _ in range(3):
        for project in ("kvm", "plain"):
            doc = daemon.wait_build(daemon.trigger(project), timeout=60)
            assert doc["state"] == "succeeded"
            assert doc["worker"].startswith("kvmbox-"), (project, doc["worker"])

    pdp = daemon.trigger("pdp")
    publish = daemon.trigger("publish")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    wait_for(lambda: daemon.build(pdp).get("waiting") is not None
             and daemon.build(publish).get("waiting") is not None, "saying why they wait")
    assert daemon.build(pdp)["state"] == "queued"
    assert daemon.build(pdp)["waiting"] == "no worker has arch=pdp11"
    assert daemon.build(publish)["waiting"] == (
        "no local worker (apt_publish needs the controller's disk)")
    assert "  waiting: no worker has arch=pdp11\n" in daemon.ick("build", str(pdp)).stdout

    listed = json.loads(daemon.ick("workers", "--json").stdout)
    by_name = {w["name"]: w for w in listed}
    assert set(by_name) == {"kvmbox", "plainbox"}
    assert by_name["kvmbox"]["labels"]["kvm"] == ["yes"]
    assert arch in by_name["kvmbox"]["labels"]["arch"]
    assert by_name["kvmbox"]["labels"]["host"] == [os.uname().nodename]
    assert (by_name["kvmbox"]["slots"], by_name["plainbox"]["slots"]) == (2, 1)
    assert by_name["kvmbox"]["local"] is False and by_name["kvmbox"]["last_seen"]
    text = daemon.ick("workers").stdout
    assert "kvm=yes" in text and "plainbox" in text
    assert text.splitlines()[0].split() == ["WORKER", "WHERE", "SLOTS", "RUNNING", "LAST",
                                            "SEEN", "LABELS"]

    # A worker that has the label takes the build that waited for one.
    workers(daemon, "pdpbox", "--label", "arch=pdp11")
    doc = daemon.wait_build(pdp, timeout=60)
    assert doc["state"] == "succeeded" and doc["worker"].startswith("pdpbox-")
    assert "waiting" not in doc or doc["waiting"] is None
    assert daemon.build(publish)["state"] == "queued"


def test_apt_publish_goes_to_a_local_worker(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker]) -> None:
    daemon = start_daemon(workers=1, settings={"worker_labels": {"kvm": "yes"}})
    daemon.apply(ROUTING)
    workers(daemon, "kvmbox", "--label", "kvm=yes").wait_registered()
    for _ in range(3):
        doc = daemon.wait_build(daemon.trigger("publish"), timeout=60)
        # No .deb to publish: it fails, but on the local worker, for that reason.
        assert doc["worker"].startswith("local0-"), doc
        assert "remote" not in (doc["actions"][0]["message"] or "")


SLOW = """
projects:
  - project: slow
    parameters: {mark: none}
    pipelines: [slow]
pipelines:
  - pipeline: slow
    actions:
      - shell: |
          if mkdir "$(params | jq -r .mark)" 2>/dev/null; then
            echo "first run"; sleep 301
          else
            echo "second run"
          fi
        where: host
"""


def test_sigterm_hands_back_the_action_and_deregisters(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker],
        tmp_path: Path) -> None:
    daemon = start_daemon(workers=0)
    daemon.apply(SLOW)
    first = workers(daemon, "first")
    first.wait_registered()
    build_id = daemon.trigger("slow", f"mark={tmp_path / 'mark'}")
    daemon.wait_log(build_id, "first run", timeout=60)
    sleeper = the_process(pids_running, tmp_path, "sleep", "301")
    # At once, not after the action: stop() gives it 30 s of the sleeper's 301 (the time it
    # takes is a figure of bench/stops.py).
    assert first.stop(signal.SIGTERM) == 0
    assert wait_dead(sleeper)
    status, listed = daemon.api("GET", "/workers")
    assert listed == []
    doc = daemon.build(build_id)
    assert doc["state"] == "queued" and doc["worker"] is None
    workers(daemon, "second")
    doc = daemon.wait_build(build_id, timeout=60)
    log = daemon.ick("log", str(build_id)).stdout
    assert doc["state"] == "succeeded", log
    assert doc["worker"].startswith("second-")
    assert "handed back action 1: the build is queued again and runs from its first action" in log
    assert log.index("first run") < log.index("handed back") < log.index("second run")


LEFTOVER = """
projects:
  - project: stuck
    pipelines: [stuck]
pipelines:
  - pipeline: stuck
    actions:
      - shell: echo started; sleep 302
        where: host
"""


def test_a_killed_worker_loses_its_lease_and_kills_its_leftovers_at_its_next_start(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker],
        tmp_path: Path) -> None:
    daemon = start_daemon(workers=0, environ={"ICK_WORKER_LEASE": "2"})
    daemon.apply(LEFTOVER)
    worker = workers(daemon, "doomed")
    worker_id = worker.wait_registered()["worker"]
    build_id = daemon.trigger("stuck")
    daemon.wait_log(build_id, "started", timeout=60)
    sleeper = the_process(pids_running, tmp_path, "sleep", "302")
    worker.stop(signal.SIGKILL)
    doc = daemon.wait_build(build_id, timeout=30)
    assert doc["state"] == "interrupted"
    message = doc["actions"][0]["message"]
    assert message.startswith(f"worker {worker_id} went away: not heard from for ")
    assert message.endswith("its lease ran out")
    assert f"ick: worker {worker_id} went away" in daemon.ick("log", str(build_id)).stdout
    assert daemon.api("GET", "/workers")[1] == []
    assert pids_running(tmp_path, "sleep", "302") == [sleeper]  # the kill left it running...
    worker.start()  # ...until the worker starts again
    assert wait_dead(sleeper, timeout=30), worker.log()[-2000:]
    worker.wait_registered()
    # The shell (PID 1 of the action's own PID namespace) and its sleep: each counted once.
    assert "killed 2 processes left by actions of this worker's last run" in worker.log()


def test_an_idle_worker_rides_out_a_controller_restart(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker]) -> None:
    daemon = start_daemon(workers=0)
    daemon.apply(LEFTOVER.replace("sleep 302", "true"))
    worker = workers(daemon, "steady")
    worker.wait_registered()
    port = int(daemon.url.rsplit(":", 1)[1])
    daemon.stop()
    wait_for(lambda: "trying again in" in worker.log(), "retrying")
    daemon.start(port=port)
    worker.wait_registered()
    doc = daemon.wait_build(daemon.trigger("stuck"), timeout=60)
    assert doc["state"] == "succeeded" and doc["worker"].startswith("steady-")
    assert worker.proc is not None and worker.proc.poll() is None


def test_a_worker_token_cannot_speak_for_local_workers_or_other_tokens_workers(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker]) -> None:
    daemon = start_daemon(workers=1)
    daemon.apply(LEFTOVER.replace("sleep 302", "sleep 2; echo done"))
    mine = workers(daemon, "mine")
    theirs_id = mine.wait_registered()["worker"]
    build_id = daemon.trigger("stuck")
    daemon.wait_log(build_id, "started", timeout=60)
    running = daemon.build(build_id)
    token = daemon.ick("token", "create", "--scope", "worker", "--name", "intruder").stdout
    token = token.strip()
    # Which of the two runs the build is the machine's pick: both are tried.
    local_id = next(w["worker"] for w in daemon.api("GET", "/workers")[1] if w["local"])
    for victim in (local_id, theirs_id):
        for method, path, body in [
            ("POST", f"/work/{build_id}/0/output?worker={victim}", b"forged\n"),
            ("POST", f"/work/{build_id}/0/done?worker={victim}", b'{"exit_code": 0}'),
            ("POST", f"/work/{build_id}/0/hand-back?worker={victim}", b""),
            ("GET", f"/work/{build_id}/0/secrets/s1?worker={victim}", None),
            ("GET", f"/work/{build_id}/0/cancel?worker={victim}&timeout=0", None),
            ("GET", f"/work?worker={victim}&timeout=0", None),
            ("DELETE", f"/work?worker={victim}", None),
        ]:
            status, doc = daemon.api(method, path, token=token, raw=body)
            assert status == 403, (method, path, status, doc)
            assert doc == {"error": f"worker {victim!r} is not registered with this token"}
    doc = daemon.wait_build(build_id, timeout=60)
    log = daemon.ick("log", str(build_id)).stdout
    assert doc["state"] == "succeeded" and "forged" not in log and "done" in log
    assert doc["worker"] == running["worker"]
    assert daemon.proc is not None and daemon.proc.poll() is None
    assert {w["worker"] for w in daemon.api("GET", "/workers")[1]} == {local_id, theirs_id}


def test_a_remote_worker_with_two_slots_runs_two_builds_at_once_and_clones_with_git(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker],
        tmp_path: Path) -> None:
    from tests.gitrepos import Repo

    repo = Repo(tmp_path, "src")
    commit = repo.commit("first")
    repo.push()
    meet = tmp_path / "meet"
    meet.mkdir()
    daemon = start_daemon(workers=0)
    daemon.apply(f"""
projects:
  - project: both
    concurrent: true
    parameters: {{git_url: "file://{repo.bare}"}}
    pipelines: [both]
pipelines:
  - pipeline: both
    actions:
      - action: git
        where: host
      - shell: |
          git -C src rev-parse HEAD
          touch {meet}/$ICK_BUILD_ID
          for i in $(seq 600); do [ "$(ls {meet} | wc -l)" -ge 2 ] && break; sleep 0.05; done
          echo "met $(ls {meet} | wc -l)"
        where: host
""")
    remote = workers(daemon, "twoslots", "--slots", "2")
    remote.wait_registered()
    ids = [daemon.trigger("both"), daemon.trigger("both")]
    for build_id in ids:
        doc = daemon.wait_build(build_id, timeout=90)
        log = daemon.ick("log", str(build_id)).stdout
        assert doc["state"] == "succeeded", log + remote.log()[-2000:]
        assert doc["worker"].startswith("twoslots-")
        assert "met 2\n" in log and f"\n{commit}\n" in log
        # What the remote worker's checkout found reaches the build's git facts.
        assert (doc["git"]["commit"], doc["git"]["subject"], doc["git"]["author"]) == (
            commit, "first", "Tess Ter <tess@example.org>")
    # The git mirror is the worker's own.
    assert list((remote.state / "git").glob("*.git"))
    assert not list((daemon.state_dir / "git").glob("*.git"))


def rooted_under(folder: Path, *argv: str) -> list[int]:
    """Processes whose command line is argv, in a container whose root is an overlay view of
    a worker whose state dir is `folder`."""
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if (Path(f"/proc/{pid}/cmdline").read_bytes() == wanted
                        and f"upperdir={folder}/" in Path(f"/proc/{pid}/mountinfo").read_text()):
                    found.append(int(pid))
            except OSError:
                continue
    return found


def test_a_killed_worker_kills_its_containers_leftovers_at_its_next_start(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker],
        put_bookworm_systree: Callable[..., None], tmp_path: Path) -> None:
    daemon = start_daemon(workers=0, environ={"ICK_WORKER_LEASE": "2"})
    put_bookworm_systree(daemon)
    daemon.apply("""
projects:
  - project: boxed
    parameters: {systree_name: bookworm_systree}
    pipelines: [boxed]
pipelines:
  - pipeline: boxed
    actions:
      - action: populate_systree
        where: host
      - shell: echo started; sleep 304
        where: container
""")
    worker = workers(daemon, "boxer")
    worker.wait_registered()
    build_id = daemon.trigger("boxed")
    daemon.wait_log(build_id, "started", timeout=120)
    sleeper = the_process(rooted_under, worker.state, "sleep", "304")
    worker.stop(signal.SIGKILL)
    assert daemon.wait_build(build_id, timeout=30)["state"] == "interrupted"
    assert rooted_under(worker.state, "sleep", "304") == [sleeper]
    worker.start()
    assert wait_dead(sleeper, timeout=30), worker.log()[-2000:]
    worker.wait_registered()
    # Its cache starts clean: nothing of the killed run stays mounted.
    views = f"{worker.state}/systrees/views"
    wait_for(lambda: views not in Path("/proc/self/mounts").read_text(), "unmounted")
    assert worker.stop() == 0
    assert str(worker.state) not in Path("/proc/self/mounts").read_text()


def test_a_remote_worker_refuses_an_artifact_whose_bytes_do_not_match_its_digest(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker],
        tmp_path: Path) -> None:
    daemon = start_daemon(workers=0)
    daemon.apply("""
projects:
  - project: unpack
    parameters: {workspace_artifact: damaged}
    pipelines: [unpack]
pipelines:
  - pipeline: unpack
    actions:
      - action: populate_workspace
        where: host
""")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "file").write_text("x" * 1000)
    tarball = tmp_path / "t.tar.zst"
    subprocess.run(["tar", "--zstd", "-cf", str(tarball), "-C", str(tree), "."], check=True)
    assert daemon.ick("artifacts", "put", "damaged", str(tarball)).returncode == 0
    digest = json.loads(daemon.ick("artifacts", "list", "--json").stdout)[0]["digest"]
    [blob] = [p for p in (daemon.state_dir / "artifacts").rglob(digest.removeprefix("sha256:"))]
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF  # the disk under the controller went bad
    blob.write_bytes(bytes(data))
    workers(daemon, "careful").wait_registered()
    doc = daemon.wait_build(daemon.trigger("unpack"), timeout=60)
    assert doc["state"] == "failed"
    message = doc["actions"][0]["message"]
    assert message.startswith("artifact 'damaged' came with digest sha256:")
    assert message.endswith(f", not {digest}: it was replaced meanwhile, or damaged on the way")


def test_a_controller_killed_under_a_running_action_comes_back_and_the_worker_follows(
        start_daemon: Callable[..., Daemon], workers: Callable[..., RemoteWorker],
        tmp_path: Path) -> None:
    daemon = start_daemon(workers=0)
    daemon.apply("""
projects:
  - project: stuck
    pipelines: [stuck]
  - project: quick
    pipelines: [quick]
pipelines:
  - pipeline: stuck
    actions:
      - shell: echo started; sleep 301
        where: host
  - pipeline: quick
    actions:
      - shell: echo quick
        where: host
""")
    worker = workers(daemon, "steady")
    worker.wait_registered()
    build_id = daemon.trigger("stuck")
    daemon.wait_log(build_id, "started", timeout=60)
    sleeper = the_process(pids_running, tmp_path, "sleep", "301")
    port = int(daemon.url.rsplit(":", 1)[1])
    daemon.stop(signal.SIGKILL)
    daemon.start(port=port)
    doc = daemon.wait_build(build_id, timeout=30)
    assert doc["state"] == "interrupted"
    assert "ick: the daemon stopped while this build ran" in daemon.ick("log", str(build_id)).stdout
    # The worker learns that the controller no longer knows it: it stops the action and
    # registers again, the same process.
    assert wait_dead(sleeper, timeout=60), worker.log()[-2000:]
    worker.wait_registered()
    again = daemon.wait_build(daemon.trigger("quick"), timeout=60)
    assert again["state"] == "succeeded" and again["worker"].startswith("steady-")
    assert worker.proc is not None and worker.proc.poll() is None
