"""End to end: the post-receive hook from `ick hook` triggers builds on a real `git push`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.daemon import Daemon

GIT_ENV = {
    "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
}


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **GIT_ENV}, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def test_push_triggers_a_build_of_the_pushed_commit(daemon: Daemon, tmp_path: Path) -> None:
    daemon.apply("""
projects:
  - project: liw/site
    pipelines: [show]
pipelines:
  - pipeline: show
    actions:
      - python: print("ref", params["git_ref"], "commit", params["git_commit"])
        where: host
""")
    bare = tmp_path / "site.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    hook = daemon.ick("hook", "liw/site")
    assert hook.returncode == 0, hook.stderr
    path = bare / "hooks" / "post-receive"
    path.write_text(hook.stdout)
    path.chmod(0o755)
    assert "trigger" in {t["scopes"][0] for t in daemon.api("GET", "/tokens")[1]}

    work = tmp_path / "work"
    git("init", "-q", "-b", "main", str(work), cwd=tmp_path)
    (work / "index.html").write_text("hello\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "first", cwd=work)
    sha = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    pushed = git("push", "-q", str(bare), "main", cwd=work)
    assert "remote: ick: liw/site #1 (build 1) queued for refs/heads/main" in pushed.stderr

    doc = daemon.wait_build(1)
    assert doc["state"] == "succeeded"
    assert doc["project"] == "liw/site"
    assert doc["parameters"] == {"git_ref": "refs/heads/main", "git_commit": sha,
                                 "ick_trigger": "hook", "ick_event": "push"}
    assert f"ref refs/heads/main commit {sha}" in daemon.ick("log", "1").stdout

    # A tag and a branch deletion trigger nothing; a second branch does.
    git("tag", "v1", cwd=work)
    git("push", "-q", str(bare), "v1", cwd=work)
    git("push", "-q", str(bare), "main:feature", cwd=work)
    git("push", "-q", str(bare), ":feature", cwd=work)
    builds = daemon.api("GET", "/builds")[1]
    assert [b["parameters"]["git_ref"] for b in builds] == ["refs/heads/feature",
                                                           "refs/heads/main"]

    daemon.stop()
    (work / "index.html").write_text("changed\n")
    git("commit", "-q", "-am", "second", cwd=work)
    offline = git("push", "-q", str(bare), "main", cwd=work)
    warnings = [line for line in offline.stderr.splitlines() if "ick" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"remote: ick: warning: could not reach ick at {daemon.url}")
    assert git("rev-parse", "main", cwd=bare).stdout == git("rev-parse", "HEAD", cwd=work).stdout


def test_the_hook_and_a_poll_of_one_push_make_one_build(daemon: Daemon, tmp_path: Path) -> None:
    from tests.polling import wait_for

    bare = tmp_path / "hello.git"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    daemon.apply(f"""
projects:
  - project: hello
    parameters: {{git_url: {bare}, git_ref: main}}
    poll: 1
    pipelines: [show]
pipelines:
  - pipeline: show
    actions:
      - shell: echo built
        where: host
""")
    hook = daemon.ick("hook", "hello")
    assert hook.returncode == 0, hook.stderr
    path = bare / "hooks" / "post-receive"
    path.write_text(hook.stdout)
    path.chmod(0o755)

    work = tmp_path / "work"
    git("init", "-q", "-b", "main", str(work), cwd=tmp_path)
    (work / "README").write_text("hello\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "first", cwd=work)
    sha = git("rev-parse", "HEAD", cwd=work).stdout.strip()
    pushed = git("push", "-q", str(bare), "main", cwd=work)
    assert "remote: ick: hello #1 (build 1) queued for refs/heads/main" in pushed.stderr
    assert daemon.wait_build(1)["state"] == "succeeded"
    # A poll finds the same commit and is given build 1, not a new one (polls run at start
    # too: a restart makes this one come now, not when the loop next looks for projects).
    daemon.stop()
    daemon.start(port=int(daemon.url.rsplit(":", 1)[1]))  # where the hook sends
    wait_for(lambda: f"already has commit {sha[:12]} of project hello (poll trigger)"
             in daemon.log_path.read_text(), "the poll's look at the pushed commit")
    assert [b["id"] for b in daemon.api("GET", "/builds")[1]] == [1]

    # The same ref and commit pushed again (after a deletion, which builds nothing) says so.
    git("config", "receive.denyDeleteCurrent", "ignore", cwd=bare)
    git("push", "-q", str(bare), ":main", cwd=work)
    again = git("push", "-q", str(bare), "main", cwd=work)
    assert (f"remote: ick: hello #1 (build 1) has {sha[:12]} already: no new build for "
            "refs/heads/main") in again.stderr
    assert [b["id"] for b in daemon.api("GET", "/builds")[1]] == [1]
