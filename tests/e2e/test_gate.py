"""End to end, with real bare repositories, the real hooks (post-receive and the gate's
pre-receive) and one daemon: a good change is merged (the target's log shows the merge and
nothing else), a failing and a conflicting change are rejected with the target untouched, a
second candidate is merged onto the first's result, a target moved during a test makes the
candidate be tested again, a daemon killed mid-test never leaves a half merge, and the same
over ssh with the gate's push key."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.daemon import Daemon
from tests.notify_servers import HookSink
from tests.polling import poll
from tests.sshd import Sshd, sshd  # noqa: F401  (the fixture)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
}

# The test: fails if the tree has FAIL; with WAIT, says so and waits (bounded) for the file
# WAIT names to exist.
CHECK = """
set -e
cd repo
git log --format='testing %H %s' -1
test ! -e FAIL
if [ -e WAIT ]; then
  echo waiting
  n=0
  while [ ! -e "$(cat WAIT)" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done
fi
echo tested
"""


def git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **GIT_ENV}, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path_factory.mktemp("gate") / "state", workers=2).start()
    yield daemon
    daemon.stop()


class Repo:
    """A gated project's bare repository (main: a.txt), with both hooks, and a clone."""

    def __init__(self, daemon: Daemon, base: Path, project: str, url: str | None = None,
                 gate: dict[str, str] | None = None,
                 parameters: dict[str, str] | None = None,
                 notify: list[dict[str, Any]] | None = None,
                 environments: list[dict[str, Any]] | None = None) -> None:
        self.daemon, self.project = daemon, project
        self.bare = base / "repo.git"
        self.work = base / "work"
        git("init", "-q", "--bare", "-b", "main", str(self.bare), cwd=base)
        git("init", "-q", "-b", "main", str(self.work), cwd=base)
        (self.work / "a.txt").write_text("one\n")
        git("add", "a.txt", cwd=self.work)
        git("commit", "-q", "-m", "first", cwd=self.work)
        git("push", "-q", str(self.bare), "main", cwd=self.work)
        doc = {"projects": [{
            "project": project, "parameters": {"git_url": url or str(self.bare),
                                               **(parameters or {})},
            "pipelines": ["gated"], "gate": gate or {"branch": "main"},
            "notify": notify or [], **({"environments": environments} if environments else {})}],
            "pipelines": [{"pipeline": "gated", "actions": [
                {"action": "git", "git_dir": "repo", "where": "host"},
                {"shell": CHECK, "where": "host"}]},
                {"pipeline": "ship", "actions": [{"shell": "true", "where": "host"}]}]}
        applied = daemon.apply(yaml.safe_dump(doc), name=f"{project}.ick")
        assert applied.returncode == 0, applied.stderr
        for name, args in (("post-receive", ()), ("pre-receive", ("--gate",))):
            made = daemon.ick("hook", project, *args)
            assert made.returncode == 0, made.stderr
            (self.bare / "hooks" / name).write_text(made.stdout)
            (self.bare / "hooks" / name).chmod(0o755)
        self.remote = url or str(self.bare)

    def tip(self, ref: str = "main") -> str:
        return git("rev-parse", ref, cwd=self.bare).stdout.strip()

    def branches(self) -> list[str]:
        return git("for-each-ref", "--format=%(refname)", cwd=self.bare).stdout.split()

    def candidate(self, name: str, files: dict[str, str], onto: str = "main") -> str:
        """Commit `files` on a branch from `onto` in the clone; its commit."""
        git("checkout", "-q", "-B", name, onto, cwd=self.work)
        for path, text in files.items():
            (self.work / path).write_text(text)
            git("add", path, cwd=self.work)
        git("commit", "-q", "-m", f"change {name}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work).stdout.strip()

    def propose(self, name: str, env: dict[str, str] | None = None) -> int:
        """`git push origin HEAD:gate/main/NAME`; the build the hook says it queued."""
        pushed = subprocess.run(["git", "push", "-q", self.remote, f"HEAD:gate/main/{name}"],
                                cwd=self.work, capture_output=True, text=True, timeout=60,
                                env={**os.environ, **GIT_ENV, **(env or {})})
        assert pushed.returncode == 0, pushed.stderr
        match = re.search(rf"ick: {self.project} #\d+ \(build (\d+)\) queued for "
                          rf"refs/heads/gate/main/{name}\s", pushed.stderr)
        assert match is not None, pushed.stderr
        return int(match[1])

    def move_main(self, files: dict[str, str]) -> str:
        """Someone else moves main (as a push ick did not make would: here, behind the
        hooks' back) to a new commit of `files`."""
        git("checkout", "-q", "-B", "other", "main", cwd=self.work)
        git("fetch", "-q", str(self.bare), "+main:refs/heads/other", cwd=self.work,
            check=False)
        git("reset", "-q", "--hard", "other", cwd=self.work)
        for path, text in files.items():
            (self.work / path).write_text(text)
            git("add", path, cwd=self.work)
        git("commit", "-q", "-m", "moved meanwhile", cwd=self.work)
        sha = git("rev-parse", "HEAD", cwd=self.work).stdout.strip()
        git("fetch", "-q", str(self.work), f"{sha}:refs/heads/main", cwd=self.bare)
        return sha

    def decided(self, build_id: int, timeout: float = 120) -> dict[str, Any]:
        """The build's JSON once the gate has decided it."""
        def fetch() -> dict[str, Any]:
            return self.daemon.build(build_id)
        return poll(fetch, lambda d: d["state"] not in ("queued", "running")
                    and d["gate"]["result"] is not None, timeout,
                    lambda d: f"build {build_id} undecided: {d['state']} {d['gate']}\n"
                              f"{self.daemon.log_tail()}")

    def gate(self) -> dict[str, Any]:
        status, doc = self.daemon.api("GET", f"/projects/{self.project}/gate")
        assert status == 200, doc
        return dict(doc)


def test_a_good_change_is_merged_and_nothing_else_changes(
        daemon: Daemon, tmp_path: Path) -> None:
    repo = Repo(daemon, tmp_path, "good")
    base = repo.tip()
    change = repo.candidate("typo", {"b.txt": "bee\n"})
    build_id = repo.propose("typo")
    doc = repo.decided(build_id)
    assert doc["state"] == "succeeded", daemon.ick("log", str(build_id)).stdout
    merge = repo.tip()
    assert doc["event"] == "change" and doc["parameters"]["ick_trigger"] == "gate"
    assert doc["gate"] | {} == {"target": "main", "base": base, "candidate": change,
                                "result": "merged", "name": "typo", "attempt": 1,
                                "order": None}
    # the merge is what was built, and it is now main's build of it
    assert (doc["git"]["ref"], doc["git"]["branch"], doc["git"]["commit"]) == \
        ("refs/heads/main", "main", merge)
    assert doc["commit"] == merge
    # main's log: the merge (of the base and the candidate, by ick), the candidate, the base
    log = git("log", "--topo-order", "--format=%H %P|%an <%ae>|%cn|%s", "main",
              cwd=repo.bare).stdout
    assert log.splitlines() == [
        f"{merge} {base} {change}|ick <ick@localhost>|ick|Merge gate/main/typo into main",
        f"{change} {base}|Ada Lovelace <ada@example.org>|Ada Lovelace|change typo",
        f"{base} |Ada Lovelace <ada@example.org>|Ada Lovelace|first",
    ]
    assert repo.branches() == ["refs/heads/main"]  # the candidate branch is gone
    assert "testing " + merge in daemon.ick("log", str(build_id)).stdout
    # the push of the merge to main made no second build
    status, builds = daemon.api("GET", "/builds?project=good")
    assert [b["id"] for b in builds] == [build_id]
    listed = repo.gate()
    assert listed["target"] == "main" and listed["moving"] == []
    assert [(c["build"], c["result"]) for c in listed["candidates"]] == [(build_id, "merged")]
    shown = daemon.ick("gate", "good")
    assert shown.returncode == 0, shown.stderr
    assert re.search(rf"^ *{build_id} .* gate/main/typo .* merged$", shown.stdout, re.M), \
        shown.stdout


def test_auto_deployments_of_the_target_branch_start_from_the_merged_gate_build(
        daemon: Daemon, tmp_path: Path) -> None:
    repo = Repo(daemon, tmp_path, "shipped", environments=[
        {"environment": "staging", "pipelines": ["ship"], "auto": {"branch": "main"}}])
    repo.candidate("broken", {"FAIL": "x\n"})
    rejected = repo.propose("broken")
    assert repo.decided(rejected)["gate"]["result"] == "rejected"
    repo.candidate("fine", {"b.txt": "bee\n"})
    merged = repo.propose("fine")
    assert repo.decided(merged)["gate"]["result"] == "merged"

    def deployments() -> list[dict[str, Any]]:
        status, doc = daemon.api("GET", "/deployments?project=shipped")
        assert status == 200, doc
        return list(doc)
    found = poll(deployments, lambda ds: any(d["state"] == "succeeded" for d in ds), 60,
                 lambda ds: f"no succeeded deployment: {ds}")
    # the merged candidate's build, as main's push; the rejected one (and the candidate
    # build before the gate decided it) deployed nowhere
    assert [(d["environment"], d["build"], d["reason"]) for d in found] == [
        ("staging", merged, "auto")]


@pytest.fixture
def hooks() -> Iterator[HookSink]:
    sink = HookSink()
    yield sink
    sink.close()


def test_a_failing_and_a_conflicting_change_are_rejected(
        daemon: Daemon, tmp_path: Path, hooks: HookSink) -> None:
    repo = Repo(daemon, tmp_path, "bad", notify=[{"webhook": f"{hooks.url}/gate",
                                                  "on": ["gate"]}])
    repo.candidate("broken", {"FAIL": "x\n"})
    failing = repo.propose("broken")
    repo.candidate("clash", {"a.txt": "two\n"}, onto="main")
    git("checkout", "-q", "main", cwd=repo.work)
    base = repo.move_main({"a.txt": "three\n"})
    git("checkout", "-q", "clash", cwd=repo.work)
    conflicting = repo.propose("clash")
    doc = repo.decided(failing)
    assert (doc["state"], doc["gate"]["result"]) == ("failed", "rejected")
    doc = repo.decided(conflicting)
    assert (doc["state"], doc["gate"]["result"]) == ("failed", "rejected")
    assert doc["gate"]["base"] is None or doc["gate"]["base"] == base
    assert "merge conflict in a.txt" in daemon.ick("log", str(conflicting)).stdout
    assert repo.tip() == base
    assert repo.branches() == ["refs/heads/main"]
    # notification point gate: one message per decided candidate, none of their ends
    hooks.wait_count(2)
    said = sorted((h.doc["build"], h.headers.get("X-Ick-Event"), h.doc["gate"]["result"])
                  for h in hooks.items)
    assert said == [(failing, "gate", "rejected"), (conflicting, "gate", "rejected")]


def test_the_second_candidate_is_merged_onto_the_first(
        daemon: Daemon, tmp_path: Path) -> None:
    repo = Repo(daemon, tmp_path, "two")
    go = tmp_path / "go"
    base = repo.tip()
    first = repo.candidate("one", {"b.txt": "bee\n", "WAIT": f"{go}\n"})
    first_build = repo.propose("one")
    second = repo.candidate("two", {"c.txt": "sea\n"}, onto="main")
    second_build = repo.propose("two")
    daemon.wait_log(first_build, "waiting")
    # two workers, yet the second waits for the first: it must merge onto its result
    assert daemon.build(second_build)["state"] == "queued"
    go.touch()
    one = repo.decided(first_build)
    two = repo.decided(second_build)
    assert (one["gate"]["result"], two["gate"]["result"]) == ("merged", "merged")
    assert two["gate"]["base"] == one["git"]["commit"]
    assert git("rev-parse", "main^1", "main^2", "main^1^1", "main^1^2", cwd=repo.bare)\
        .stdout.split() == [one["git"]["commit"], second, base, first]


def test_a_target_moved_during_the_test_makes_the_candidate_be_tested_again(
        daemon: Daemon, tmp_path: Path) -> None:
    repo = Repo(daemon, tmp_path, "moved")
    go = tmp_path / "go"
    change = repo.candidate("slow", {"b.txt": "bee\n", "WAIT": f"{go}\n"})
    first = repo.propose("slow")
    daemon.wait_log(first, "waiting")
    git("checkout", "-q", "main", cwd=repo.work)
    moved = repo.move_main({"c.txt": "sea\n"})
    go.touch()
    doc = repo.decided(first)
    assert (doc["state"], doc["gate"]["result"]) == ("succeeded", "retried")
    assert repo.tip() == moved  # the compare and swap refused the stale merge
    again = poll(repo.gate, lambda g: len(g["candidates"]) == 2, 60, str)["candidates"][0]
    doc = repo.decided(again["build"])
    assert doc["gate"] | {} == {"target": "main", "base": moved, "candidate": change,
                                "result": "merged", "name": "slow", "attempt": 2,
                                "order": first}
    assert git("rev-parse", "main^1", "main^2", cwd=repo.bare).stdout.split() == \
        [moved, change]
    assert repo.branches() == ["refs/heads/main"]


def test_only_ick_moves_the_target(daemon: Daemon, tmp_path: Path) -> None:
    repo = Repo(daemon, tmp_path, "guarded")
    base = repo.tip()
    repo.candidate("direct", {"b.txt": "bee\n"})
    pushed = git("push", str(repo.bare), "HEAD:main", cwd=repo.work, check=False)
    assert pushed.returncode != 0
    assert "ick: only ick moves main: push your change to gate/main/NAME instead" in \
        pushed.stderr
    assert repo.tip() == base
    # other branches pass
    git("push", "-q", str(repo.bare), "HEAD:feature", cwd=repo.work)
    # a project without a gate has no such hook
    daemon.apply("projects:\n  - project: ungated\n    pipelines: [gated]\n",
                 name="ungated.ick")
    refused = daemon.ick("hook", "ungated", "--gate")
    assert refused.returncode != 0
    assert "project ungated has no gate" in refused.stderr


def test_a_daemon_killed_mid_test_tests_the_candidate_again(
        daemon: Daemon, tmp_path: Path) -> None:
    repo = Repo(daemon, tmp_path, "killed")
    go = tmp_path / "go"
    base = repo.tip()
    change = repo.candidate("crash", {"b.txt": "bee\n", "WAIT": f"{go}\n"})
    first = repo.propose("crash")
    daemon.wait_log(first, "waiting")
    port = int(daemon.url.rsplit(":", 1)[1])  # the hooks know where the daemon listens
    daemon.stop(signal.SIGKILL)
    assert repo.tip() == base
    daemon.start(port=port)
    doc = repo.decided(first)
    assert (doc["state"], doc["gate"]["result"]) == ("interrupted", "retried")
    assert repo.tip() == base  # never half merged
    again = poll(repo.gate, lambda g: len(g["candidates"]) == 2, 60, str)["candidates"][0]
    go.touch()
    doc = repo.decided(again["build"])
    assert (doc["gate"]["result"], doc["gate"]["attempt"]) == ("merged", 2)
    assert git("rev-parse", "main^1", "main^2", cwd=repo.bare).stdout.split() == [base, change]


def test_over_ssh_with_the_push_key(daemon: Daemon, sshd: Sshd,  # noqa: F811
                                    tmp_path: Path) -> None:
    url = f"ssh://root@127.0.0.1:{sshd.port}{tmp_path / 'repo.git'}"
    secrets = {"ssh_key_secret": "push_key", "known_hosts_secret": "hosts"}
    repo = Repo(daemon, tmp_path, "remote", url=url,
                gate={"branch": "main", "push_key_secret": "push_key",
                      "known_hosts_secret": "hosts"}, parameters=secrets)
    for name, value in (("push_key", sshd.user_key.read_text()),
                        ("hosts", sshd.known_hosts + "\n")):
        result = daemon.ick("secret", "set", "remote", name, input=value)
        assert result.returncode == 0, result.stderr
    base = repo.tip()
    change = repo.candidate("far", {"b.txt": "bee\n"})
    ssh = (f"ssh -i {sshd.user_key} -o IdentitiesOnly=yes -o BatchMode=yes "
           f"-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null")
    build_id = repo.propose("far", env={"GIT_SSH_COMMAND": ssh})
    doc = repo.decided(build_id)
    assert doc["gate"]["result"] == "merged", daemon.ick("log", str(build_id)).stdout
    assert git("rev-parse", "main^1", "main^2", cwd=repo.bare).stdout.split() == [base, change]
    assert repo.branches() == ["refs/heads/main"]
    # ick's push of the merge passed the pre-receive hook, and its post-receive made no build
    status, builds = daemon.api("GET", "/builds?project=remote")
    assert [b["id"] for b in builds] == [build_id]
