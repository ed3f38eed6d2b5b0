"""`ick builds` shows each build's branch (or tag) and its commit's subject; `ick build ID` its
event, who triggered it, branch or tag, commit, subject and author (ick/cli/builds.py). A
real daemon building from a real repository, whose git action finds the subject and author."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ick.cli.builds import MAX_SUBJECT
from tests.daemon import Daemon
from tests.gitrepos import Repo, git

AUTHOR = "Tess Ter <tess@example.org>"  # tests.gitrepos commits as her
LONG = "Fix the typo that " + "really " * 20 + "bothered everyone"


def test_the_listing_and_the_build_show_branch_tag_subject(daemon: Daemon,
                                                             tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repos", "hello")
    released = repo.commit("Release <1.0>")
    git("tag", "v1.0", cwd=repo.work)
    git("checkout", "-q", "-b", "feature/typo", cwd=repo.work)
    typo = repo.commit(LONG)
    repo.push("main", "feature/typo", "v1.0")
    daemon.apply(yaml.safe_dump({
        "projects": [{"project": "hello", "parameters": {"git_url": str(repo.bare)},
                      "pipelines": ["hello"]}],
        "pipelines": [{"pipeline": "hello", "actions": [{"action": "git", "where": "host"}]}]}))
    tag = daemon.trigger("hello", "git_ref=refs/tags/v1.0")
    branch = daemon.trigger("hello", "git_ref=feature/typo")
    plain = daemon.trigger("hello")  # the remote's HEAD: no branch asked for
    for build_id in (tag, branch, plain):
        assert daemon.wait_build(build_id)["state"] == "succeeded"

    listing = daemon.ick("builds", "hello")
    assert listing.returncode == 0, listing.stderr
    header, *rows = listing.stdout.splitlines()
    assert header.split() == ["ID", "PROJECT", "NUMBER", "STATE", "TRIGGER", "QUEUED", "BRANCH",
                              "COMMIT", "JOBS", "SUBJECT"]
    at = {name: header.index(name) for name in ("BRANCH", "COMMIT", "SUBJECT")}
    by_id = {int(row.split()[0]): row for row in rows}

    def cells(build_id: int) -> tuple[str, str, str]:
        row = by_id[build_id]
        return (row[at["BRANCH"]:at["COMMIT"]].strip(), row[at["COMMIT"]:].split()[0],
                row[at["SUBJECT"]:])

    assert cells(tag) == ("tag:v1.0", released[:10], "Release <1.0>")
    assert cells(branch) == ("feature/typo", typo[:10], LONG[:MAX_SUBJECT - 1] + "…")
    assert cells(plain) == ("", released[:10], "Release <1.0>")

    shown = daemon.ick("build", str(branch))
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(daemon.ick("build", str(branch), "--json").stdout)
    assert doc["git"] == {"ref": "feature/typo", "branch": "feature/typo", "tag": None,
                          "commit": typo, "subject": LONG, "author": AUTHOR}
    lines = shown.stdout.splitlines()
    for line in (f"  event: {doc['event']}", f"  triggered by: {doc['triggered_by']}",
                 "  branch: feature/typo", f"  commit: {typo}", f"  subject: {LONG}",
                 f"  author: {AUTHOR}"):
        assert line in lines, shown.stdout
    assert "  event: manual" in lines
    tagged = daemon.ick("build", str(tag)).stdout.splitlines()
    assert "  tag: v1.0" in tagged and "  subject: Release <1.0>" in tagged
    assert not any(line.startswith("  branch:") for line in tagged)
