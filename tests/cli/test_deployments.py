"""`ick environments`, `ick deployments`, `ick deploy`, `ick rollback`, `ick approve`, `ick
reject` and `ick secret ... --environment` against one real `ick serve`; a waiting
deployment still waits after the daemon restarts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon import Daemon
from tests.polling import poll

ICK = """
projects:
  - project: site
    parameters: {{version: "0"}}
    pipelines: [make]
    environments:
      - environment: staging
        pipelines: [ship]
        parameters: {{target: {base}/staging}}
        auto: {{branch: main}}
      - environment: production
        pipelines: [ship]
        parameters: {{target: {base}/production}}
        after: staging
        approval: true
pipelines:
  - pipeline: make
    actions:
      - python: |
          import os
          os.makedirs("site", exist_ok=True)
          open("site/index.html", "w").write(params["version"])
        where: host
        outputs: [site]
  - pipeline: ship
    actions:
      - python: |
          import shutil
          shutil.copytree("site", params["target"], dirs_exist_ok=True)
        where: host
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    base = tmp_path_factory.mktemp("deploy")
    daemon = Daemon(base / "state", workers=2).start()
    try:
        daemon.apply(ICK.format(base=base))
        yield daemon
    finally:
        daemon.stop()


def ok(daemon: Daemon, *args: str, input: str | None = None) -> str:
    result = daemon.ick(*args, input=input)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def deployments(daemon: Daemon, environment: str) -> list[dict[str, Any]]:
    return list(json.loads(ok(daemon, "deployments", "site", "--environment", environment,
                              "--json")))


def built(daemon: Daemon, version: str, branch: str = "main") -> int:
    out = ok(daemon, "trigger", "site", "-p", f"version={version}", "-p",
             f"git_ref=refs/heads/{branch}", "--wait")
    return int(out.split()[0])


def staged(daemon: Daemon, build: int) -> dict[str, Any]:
    """The automatic deployment of `build` to staging, once it ended."""
    return poll(lambda: [d for d in deployments(daemon, "staging") if d["build"] == build],
                lambda found: bool(found) and found[0]["state"] == "succeeded", 60,
                lambda found: f"staging: {found}")[0]


def test_deploy_approve_roll_back_and_reject_from_the_command_line(daemon: Daemon) -> None:
    base = daemon.state_dir.parent
    first = built(daemon, "1")
    auto = staged(daemon, first)
    assert (auto["reason"], auto["requested_by"]) == ("auto", "ick")
    assert (base / "staging" / "index.html").read_text() == "1"
    table = ok(daemon, "environments", "site")
    rows = [re.split(r"\s{2,}", line.strip()) for line in table.splitlines()]
    assert rows[0] == ["ENVIRONMENT", "LIVE", "SINCE", "WAITING", "AFTER", "APPROVAL", "URL"]
    assert rows[1][:2] == ["staging", f"build {first}"]
    assert rows[2][:2] == ["production", "-"]
    # production: waits for approval, then runs
    said = ok(daemon, "deploy", "site", "production")
    match = re.fullmatch(rf"deployment (\d+): build {first} to production of site: "
                         r"waiting\n", said)
    assert match, said
    waiting = match.group(1)
    assert "approved by" not in ok(daemon, "deployments")
    ok(daemon, "approve", waiting)
    done = poll(lambda: deployments(daemon, "production")[0],
                lambda d: d["state"] == "succeeded", 60, str)
    assert done["approved_by"] == "admin"
    assert (base / "production" / "index.html").read_text() == "1"
    # a second build goes to staging by itself; roll-back brings the first back
    second = built(daemon, "2")
    staged(daemon, second)
    assert (base / "staging" / "index.html").read_text() == "2"
    result = daemon.ick("rollback", "site", "staging", "--wait")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("succeeded\n"), result.stdout
    assert (base / "staging" / "index.html").read_text() == "1"
    assert deployments(daemon, "staging")[0]["reason"] == "rollback"
    # a feature branch's build deploys nowhere, and production refuses it, saying why
    feature = built(daemon, "3", branch="feat/x")
    refused = daemon.ick("deploy", "site", "production", "--build", str(feature))
    assert refused.returncode != 0
    assert "has no succeeded deployment to 'staging'" in refused.stderr
    assert all(d["build"] != feature for d in json.loads(ok(daemon, "deployments", "--json")))
    # a waiting deployment still waits after a restart, and can be rejected then
    later = json.loads(ok(daemon, "deploy", "site", "production", "--json"))
    assert later["state"] == "waiting"
    daemon.stop()
    daemon.start()
    assert deployments(daemon, "production")[0]["state"] == "waiting"
    assert "rejected" in ok(daemon, "reject", str(later["id"]))
    assert deployments(daemon, "production")[0]["state"] == "rejected"


def test_an_environment_s_secrets_from_the_command_line(daemon: Daemon) -> None:
    said = ok(daemon, "secret", "set", "site", "deploy_key", "--environment", "production",
              input="prod-secret-1\n")
    assert said == "secret deploy_key of project site (environment production): set\n"
    listed = ok(daemon, "secret", "list", "site", "--environment", "production")
    assert listed.startswith("deploy_key  ")
    assert ok(daemon, "secret", "list", "site") == ""
    ok(daemon, "secret", "rm", "site", "deploy_key", "--environment", "production")
    assert ok(daemon, "secret", "list", "site", "--environment", "production") == ""


def test_wait_exits_1_when_the_deployment_fails(daemon: Daemon, tmp_path: Path) -> None:
    blocked = daemon.state_dir.parent / "blocked"
    blocked.write_text("a file where the target's folder should be")
    daemon.apply(ICK.format(base=blocked))
    try:
        result = daemon.ick("deploy", "site", "staging", "--wait")
        assert result.returncode == 1, (result.stdout, result.stderr)
        assert result.stdout.endswith("failed\n")
    finally:
        daemon.apply(ICK.format(base=daemon.state_dir.parent))
