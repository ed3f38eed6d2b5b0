"""End to end: `when:` on real pushes through the real post-receive hook. A feature branch's
push builds without the action that says `when: {branch: main}`; main's push runs it (issue
23: a pushed `feature/typo` replaced main's package in the APT repository). `ick apply`
refuses a bad condition with FILE:LINE."""

from __future__ import annotations

from pathlib import Path

from tests.daemon import Daemon
from tests.gitrepos import git

FILE = """
projects:
  - project: hello
    parameters: {{out: {out}}}
    pipelines: [build, {{pipeline: publish, when: {{branch: main}}}}]
pipelines:
  - pipeline: build
    actions:
      - python: print("building", params["git_ref"])
        where: host
      - python: print("never on a push")
        where: host
        when: {{event: manual}}
  - pipeline: publish
    actions:
      - python: |
          open(params["out"] + "/published-" + params["git_commit"], "w").write("yes")
        where: host
"""


def test_a_feature_branch_push_skips_what_only_main_runs(daemon: Daemon, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # `ick apply` refuses a bad condition, saying where, and changes nothing
    bad = tmp_path / "bad.ick"
    bad.write_text(FILE.format(out=out).replace("{branch: main}", "{branch: main, on: push}")
                   .replace("{event: manual}", "{event: manually}"))
    refused = daemon.ick("apply", str(bad))
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"ick: error: {bad}:5: pipelines entry 2 of project 'hello': 'when': unknown key 'on' "
        "(expected one of: branch, event, parameters, status, tag)",
        f"ick: error: {bad}:13: action 2 of pipeline 'build': 'when': unknown event "
        "'manually' (expected one of: push, tag, change, manual, schedule, downstream, "
        "deploy)",
    ]
    assert daemon.api("GET", "/projects") == (200, [])
    applied = daemon.apply(FILE.format(out=out))
    assert applied.returncode == 0, applied.stderr
    bare = tmp_path / "hello.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    hook = daemon.ick("hook", "hello")
    assert hook.returncode == 0, hook.stderr
    (bare / "hooks" / "post-receive").write_text(hook.stdout)
    (bare / "hooks" / "post-receive").chmod(0o755)
    work = tmp_path / "work"
    git("init", "-q", "-b", "main", str(work))
    (work / "hello.c").write_text("int main(void) { return 0; }\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "hello", cwd=work)
    main_commit = git("rev-parse", "HEAD", cwd=work)
    git("push", "-q", str(bare), "main", cwd=work)
    built = daemon.wait_build(1)
    assert built["state"] == "succeeded"
    assert [(a["pipeline"], a["state"], a["message"]) for a in built["actions"]] == [
        ("build", "succeeded", None),
        ("build", "skipped", "when: event is 'push', not 'manual'"),
        ("publish", "succeeded", None),
    ]
    assert (out / f"published-{main_commit}").read_text() == "yes"

    git("checkout", "-q", "-b", "feature/typo", cwd=work)
    (work / "hello.c").write_text("int main(void) { return 1; }\n")
    git("commit", "-q", "-am", "typo", cwd=work)
    feature_commit = git("rev-parse", "HEAD", cwd=work)
    git("push", "-q", str(bare), "feature/typo", cwd=work)
    built = daemon.wait_build(2)
    assert built["parameters"]["git_ref"] == "refs/heads/feature/typo"
    assert built["state"] == "succeeded"
    assert [(a["pipeline"], a["state"], a["message"]) for a in built["actions"]] == [
        ("build", "succeeded", None),
        ("build", "skipped", "when: event is 'push', not 'manual'"),
        ("publish", "skipped", "when: branch is 'feature/typo', not 'main'"),
    ]
    assert not (out / f"published-{feature_commit}").exists()
    log = daemon.ick("log", "2").stdout
    assert "ick: pipeline publish, action 1 skipped: when: branch is 'feature/typo', not " \
           "'main'" in log
    assert "building refs/heads/feature/typo" in log
