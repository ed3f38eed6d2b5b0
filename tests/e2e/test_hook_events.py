"""End to end, with real git repositories, the real hook and one daemon whose builds a remote
`ick worker` runs: a pushed tag builds (event tag, its git facts, ICK_GIT_TAG in the action),
refs the project does not build make none (one line from the hook), a poll and the hook of
one push make one build, and a new push supersedes the branch's older builds."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon
from tests.polling import poll
from tests.remote import RemoteWorker

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
}

ICK = """
projects:
  - project: rel
    branches: [main]
    tags: ["v*"]
    pipelines: [show]
  - project: polled
    parameters: {{git_url: {polled}, git_ref: main}}
    poll: 1
    pipelines: [show]
  - project: busy
    cancel_superseded: true
    pipelines: [wait]
pipelines:
  - pipeline: show
    actions:
      - shell: echo "event=[$ICK_EVENT] tag=[$ICK_GIT_TAG] branch=[$ICK_GIT_BRANCH]"
        where: host
  - pipeline: wait
    actions:
      - shell: echo started; sleep 300
        where: host
"""


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **GIT_ENV}, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def ick_lines(pushed: subprocess.CompletedProcess[str]) -> list[str]:
    """What the hook said, as git shows it to who pushed."""
    return [line.rstrip() for line in pushed.stderr.splitlines()
            if line.startswith("remote: ick")]


def repository(daemon: Daemon, base: Path, project: str, hook: bool = True) -> Path:
    """A bare repository (with the project's hook) and a clone of it to push from."""
    bare = base / f"{project}.git"
    if not bare.exists():
        git("init", "-q", "--bare", "-b", "main", str(bare), cwd=base)
    if hook:
        made = daemon.ick("hook", project)
        assert made.returncode == 0, made.stderr
        path = bare / "hooks" / "post-receive"
        path.write_text(made.stdout)
        path.chmod(0o755)
    work = base / f"{project}-work"
    if not work.exists():
        git("init", "-q", "-b", "main", str(work), cwd=base)
    return work


def commit(work: Path, subject: str) -> str:
    git("commit", "-q", "--allow-empty", "-m", subject, "-m", "the body", cwd=work)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()


def builds(daemon: Daemon, project: str) -> list[dict[str, object]]:
    status, docs = daemon.api("GET", f"/builds?project={project}")
    assert status == 200, docs
    return list(docs)


@pytest.fixture(scope="module")
def pushes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, Path]]:
    from ick.worker.leftovers import kill_rooted_under

    base = tmp_path_factory.mktemp("pushes")
    polled = base / "polled.git"
    git("init", "-q", "--bare", "-b", "main", str(polled), cwd=base)
    daemon = Daemon(base / "state", workers=0).start()
    worker = None
    try:
        daemon.apply(ICK.format(polled=polled))
        # Started again, so that the poll of `polled` runs at start, not after the poll loop
        # next looks for new projects.
        daemon.stop()
        daemon.start()
        worker = RemoteWorker(daemon, base, "w1").start()
        worker.wait_registered()
        yield daemon, base
    finally:
        if worker is not None:
            worker.stop()
            kill_rooted_under(worker.state)
        daemon.stop()


def test_a_pushed_tag_builds_and_refs_not_built_say_so(pushes: tuple[Daemon, Path]) -> None:
    daemon, base = pushes
    work = repository(daemon, base, "rel")
    bare = str(base / "rel.git")
    sha = commit(work, 'release "one"')
    (line,) = ick_lines(git("push", "-q", bare, "main", cwd=work))
    assert line.startswith("remote: ick: rel #1 (build ")
    assert line.endswith(") queued for refs/heads/main")
    git("tag", "-a", "-m", "the first release", "v1.0", cwd=work)
    (line,) = ick_lines(git("push", "-q", bare, "v1.0", cwd=work))
    assert line.startswith("remote: ick: rel #2 (build ")
    assert line.endswith(") queued for refs/tags/v1.0")
    branch_build, tag_build = (b["id"] for b in reversed(builds(daemon, "rel")))
    doc = daemon.wait_build(tag_build, timeout=60)
    assert doc["state"] == "succeeded"
    assert (doc["event"], doc["triggered_by"]) == ("tag", "hook for rel")
    # the commit the annotated tag names, with its subject and author from the hook
    assert doc["git"] == {"ref": "refs/tags/v1.0", "branch": None, "tag": "v1.0",
                          "commit": sha, "subject": 'release "one"',
                          "author": "Ada Lovelace <ada@example.org>"}
    assert doc["parameters"]["ick_event"] == "tag"
    log = daemon.ick("log", str(tag_build)).stdout
    assert "event=[tag] tag=[v1.0] branch=[]" in log  # run by the remote worker
    assert daemon.wait_build(branch_build)["event"] == "push"
    # a tag of a commit the repository holds packed: the hook asks git for its subject
    git("gc", "-q", cwd=base / "rel.git")
    assert not (base / "rel.git" / "objects" / sha[:2] / sha[2:]).exists()
    git("tag", "v1.1", cwd=work)
    (line,) = ick_lines(git("push", "-q", bare, "v1.1", cwd=work))
    assert line.endswith(") queued for refs/tags/v1.1")
    packed = builds(daemon, "rel")[0]
    assert packed["git"] == {**doc["git"], "ref": "refs/tags/v1.1", "tag": "v1.1"}

    # a tag and a branch the project does not build: one line each, no build
    git("tag", "nightly", cwd=work)
    pushed = git("push", "-q", bare, "nightly", "main:feature/x", cwd=work)
    assert sorted(ick_lines(pushed)) == [
        "remote: ick: no build for refs/heads/feature/x: project 'rel' does not build branch "
        "'feature/x' (branches: main)",
        "remote: ick: no build for refs/tags/nightly: project 'rel' does not build tag "
        "'nightly' (tags: v*)"]
    assert [b["id"] for b in builds(daemon, "rel")] == [packed["id"], tag_build, branch_build]


def test_a_poll_and_the_hook_of_one_push_make_one_build(pushes: tuple[Daemon, Path]) -> None:
    daemon, base = pushes
    work = repository(daemon, base, "polled", hook=False)
    sha = commit(work, "polled first")
    git("push", "-q", str(base / "polled.git"), "main", cwd=work)  # no hook yet: the poll
    found = poll(lambda: builds(daemon, "polled"), lambda docs: len(docs) == 1, 60,
                 lambda docs: f"the poll made no build: {daemon.log_tail()}")
    build = found[0]
    assert (build["event"], build["triggered_by"], build["parameters"]["ick_trigger"]) == (
        "push", "ick", "poll")
    assert isinstance(build["git"], dict)
    assert (build["git"]["ref"], build["git"]["commit"]) == ("refs/heads/main", sha)
    # the hook of the same push (pushed again: a deletion builds nothing) answers 200
    repository(daemon, base, "polled")
    git("config", "receive.denyDeleteCurrent", "ignore", cwd=base / "polled.git")
    assert ick_lines(git("push", "-q", str(base / "polled.git"), ":main", cwd=work)) == []
    pushed = git("push", "-q", str(base / "polled.git"), "main", cwd=work)
    assert ick_lines(pushed) == [
        f"remote: ick: polled #1 (build {build['id']}) has {sha[:12]} already: no new build "
        "for refs/heads/main"]
    assert [b["id"] for b in builds(daemon, "polled")] == [build["id"]]


def test_a_new_push_supersedes_the_branch_s_older_builds(pushes: tuple[Daemon, Path]) -> None:
    daemon, base = pushes
    work = repository(daemon, base, "busy")
    bare = str(base / "busy.git")
    ids = []
    for n in range(3):
        commit(work, f"change {n}")
        (line,) = ick_lines(git("push", "-q", bare, "main", cwd=work))
        ids.append(int(line.split("(build ")[1].split(")")[0]))
        if n == 0:  # the first runs, the second waits for the one worker: both are superseded
            daemon.wait_log(ids[0], "started")
    first, second, last = (daemon.wait_build(i, ("cancelled",), 60) if i != ids[2]
                           else daemon.build(i) for i in ids)
    assert (first["state"], second["state"]) == ("cancelled", "cancelled")
    for old in (first, second):
        assert f"ick: superseded by build {ids[2]}\n" in daemon.ick("log", str(old["id"])).stdout
    assert last["state"] in ("queued", "running")
    daemon.ick("cancel", str(ids[2]))
    assert daemon.wait_build(ids[2], timeout=60)["state"] == "cancelled"
