"""Continuous delivery end to end, as a user would meet it: a project whose builds make a
static site and a .deb; main's builds deploy by themselves to staging (rsync to a real sshd
on loopback, and ick's APT suite `staging`), one at a time: while the first is held, the
second waits without a run, then follows it; production takes only what staging had, waits
for approval (given with `ick approve`, then in Chromium on the environment's page), and is
rolled back with `ick rollback`: the target holds the older build's files again, and apt on
this machine, which installed the newer .deb from production's suite, downgrades to the
older one (a real install: the test runs as root and purges the package before and after).
A feature branch's build deploys nowhere."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.daemon import Daemon
from tests.polling import poll
from tests.runners.test_apt import apt
from tests.sshd import Sshd, sshd  # noqa: F401  (the fixture)
from tests.ui.conftest import browser  # noqa: F401  (the fixture)
from tests.ui.web import Ui

SITE = """
projects:
  - project: site
    parameters: {{version: "0"}}
    pipelines: [make]
    concurrent: true    # main's next build runs while staging's deployment is held
    environments:
      - environment: staging
        pipelines: [ship]
        parameters: {{rsync_target: "root@127.0.0.1:{www}/staging", ssh_port: {port},
                      distribution: staging}}
        auto: {{branch: main}}
      - environment: production
        pipelines: [ship]
        parameters: {{rsync_target: "root@127.0.0.1:{www}/production", ssh_port: {port},
                      distribution: production}}
        after: staging
        approval: true
pipelines:
  - pipeline: make
    actions:
      - shell: |
          v=$(params | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
          mkdir -p public pkg/DEBIAN pkg/usr/bin
          echo "<h1>site $v</h1>" > public/index.html
          echo "$v" > "public/only-$v.html"
          printf 'Package: site-ick\\nVersion: %s\\nArchitecture: all\\n' "$v" > pkg/DEBIAN/control
          printf 'Maintainer: ick <ick@example.org>\\nDescription: the site\\n' \\
              >> pkg/DEBIAN/control
          printf '#!/bin/sh\\necho "site %s"\\n' "$v" > pkg/usr/bin/site-ick
          chmod 755 pkg/usr/bin/site-ick
          find pkg -exec touch -h -d @1700000000 {{}} +
          SOURCE_DATE_EPOCH=1700000000 dpkg-deb --root-owner-group --build pkg \\
              "site-ick_${{v}}_all.deb"
        where: host
        outputs: [public, "*.deb"]
  - pipeline: ship
    actions:
      - shell: |
          # The test holds a deployment here while the file is there (60 s at most).
          for i in $(seq 1200); do
            [ -e {hold} ] || exit 0
            [ "$i" != 1 ] || echo "held: {hold} is there"
            sleep 0.05
          done
          echo "still held after 60 s"
          exit 1
        where: host
      - action: rsync
        rsync_src: public
        ssh_key_secret: deploy_key
        known_hosts_secret: known_hosts
        where: host
      - action: apt_publish
        debs: ["*.deb"]
        where: host
"""


def ok(daemon: Daemon, *args: str, input: str | None = None) -> str:
    result = daemon.ick(*args, input=input)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def built(daemon: Daemon, version: str, branch: str) -> int:
    build = daemon.trigger("site", f"version={version}", f"git_ref=refs/heads/{branch}")
    assert daemon.wait_build(build, timeout=120)["state"] == "succeeded"
    return build


def deployment(daemon: Daemon, environment: str, build: int,
               states: tuple[str, ...] = ("succeeded",)) -> dict[str, Any]:
    def find() -> list[dict[str, Any]]:
        out = ok(daemon, "deployments", "site", "--environment", environment, "--json")
        return [d for d in json.loads(out) if d["build"] == build]

    found = poll(find, lambda f: bool(f) and f[0]["state"] in (
        *states, "failed", "cancelled", "rejected"), 120, lambda f: f"{environment}: {f}")
    if found[0]["state"] == "failed" and found[0]["run"]:
        raise AssertionError(ok(daemon, "log", str(found[0]["run"])))
    assert found[0]["state"] in states, found
    return found[0]


def candidate(daemon: Daemon, tmp: Path, suite: str) -> str:
    """What apt, reading only ick's suite (tmp's sources.list and lists), would install on a
    machine without site-ick (this one's may have it: a newer one installed would be the
    candidate)."""
    import urllib.request

    (tmp / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (tmp / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    key = tmp / "key.asc"
    with urllib.request.urlopen(f"{daemon.url}/apt/key.asc", timeout=30) as response:
        key.write_bytes(response.read())
    (tmp / "sources.list").write_text(f"deb [signed-by={key}] {daemon.url}/apt {suite} main\n")
    update = apt(tmp, "apt-get", "update")
    assert update.returncode == 0 and "W:" not in update.stderr, update.stdout + update.stderr
    (tmp / "status").write_text("")
    policy = apt(tmp, "apt-cache", f"-oDir::State::status={tmp / 'status'}", "policy",
                 "site-ick")
    return next(line.split()[1] for line in policy.stdout.splitlines()
                if line.strip().startswith("Candidate:"))


NONINTERACTIVE = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}


def on_this_machine(*argv: str) -> str:
    """Run a command on this machine, as root, with no terminal: its output."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL, env=NONINTERACTIVE)
    assert done.returncode == 0, (argv, done.stdout, done.stderr)
    return done.stdout


def install(tmp: Path, *args: str) -> str:
    """`apt-get install -y ARGS` for real: from ick's suite alone (tmp's sources.list, lists
    and cache, as `candidate` left them), into this machine's dpkg status, under its locks."""
    return on_this_machine(
        "apt-get", f"-oDir::Etc::SourceList={tmp / 'sources.list'}",
        "-oDir::Etc::SourceParts=/nonexistent", f"-oDir::State::Lists={tmp / 'lists'}",
        f"-oDir::Cache={tmp / 'cache'}", "-oAPT::Sandbox::User=root",
        "-oDPkg::Lock::Timeout=60", "install", "-y", *args)


@pytest.fixture
def site_ick() -> Iterator[None]:
    """The test installs site-ick on this machine: purged before (an aborted run may have
    left it) and after."""
    if os.geteuid() != 0:
        pytest.skip("needs root: it installs site-ick on this machine with apt-get")
    on_this_machine("dpkg", "--purge", "site-ick")
    yield
    on_this_machine("dpkg", "--purge", "site-ick")


def approve_in_the_browser(browser: Any, daemon: Daemon, deployment_id: int) -> None:  # noqa: F811
    """Log in with the admin token and press Approve on the environment's page."""
    context = browser.new_context()
    context.set_default_timeout(20_000)
    try:
        ui = Ui(daemon, context, context.new_page(), daemon.url)
        ui.login(path="/ui/projects/site/environments/production")
        row = ui.page.locator(f"#deployment-{deployment_id}")
        expect(row).to_contain_text("waiting")
        row.get_by_role("button", name="Approve").click()
        ui.page.wait_for_url(f"{daemon.url}/ui/projects/site/environments/production")
    finally:
        context.close()


def test_staging_production_approval_and_roll_back(
        start_daemon: Callable[..., Daemon], sshd: Sshd, tmp_path: Path,  # noqa: F811
        browser: Any, site_ick: None) -> None:  # noqa: F811
    daemon = start_daemon(workers=2)
    www = tmp_path / "www"
    www.mkdir()
    hold = tmp_path / "hold"
    daemon.apply(SITE.format(www=www, port=sshd.port, hold=hold), name="site.ick")
    for environment in ("staging", "production"):
        for name, value in (("deploy_key", sshd.user_key.read_text()),
                            ("known_hosts", sshd.known_hosts + "\n")):
            ok(daemon, "secret", "set", "site", name, "--environment", environment,
               input=value)
    # main's first build goes to staging by itself; held there, main's second build's
    # deployment waits for it, without a run, then follows it
    hold.touch()
    try:
        first = built(daemon, "1.0", "main")
        held = deployment(daemon, "staging", first, states=("running",))
        poll(lambda: ok(daemon, "log", str(held["run"])), lambda log: "held:" in log, 60,
             lambda log: f"the run of the held deployment: {log}")
        second = built(daemon, "2.0", "main")
        waits = deployment(daemon, "staging", second, states=("queued", "running"))
        assert (waits["state"], waits["run"]) == ("queued", None), waits
        assert deployment(daemon, "staging", first, states=("running",))["run"] == held["run"]
    finally:
        hold.unlink(missing_ok=True)
    held = deployment(daemon, "staging", first)
    waits = deployment(daemon, "staging", second)
    assert held["id"] < waits["id"] and held["finished_at"] <= waits["started_at"]
    [staging] = [e for e in json.loads(ok(daemon, "environments", "site", "--json"))
                 if e["environment"] == "staging"]
    assert staging["live"]["build"] == second
    assert sorted(p.name for p in (www / "staging").iterdir()) == [
        "index.html", "only-2.0.html"]
    assert (www / "staging" / "index.html").read_text() == "<h1>site 2.0</h1>\n"
    # production takes a build staging had, once approved
    asked = json.loads(ok(daemon, "deploy", "site", "production", "--build", str(first),
                          "--json"))
    assert (asked["state"], asked["build"]) == ("waiting", first)
    ok(daemon, "approve", str(asked["id"]))
    deployment(daemon, "production", first)
    assert (www / "production" / "index.html").read_text() == "<h1>site 1.0</h1>\n"
    # a feature branch's build deploys nowhere; production refuses it
    feature = built(daemon, "9.0", "feat/x")
    refused = daemon.ick("deploy", "site", "production", "--build", str(feature))
    assert refused.returncode != 0 and "no succeeded deployment to 'staging'" in refused.stderr
    # main's second build, live in staging, goes to production by default
    asked = json.loads(ok(daemon, "deploy", "site", "production", "--json"))
    assert asked["build"] == second
    approve_in_the_browser(browser, daemon, asked["id"])
    assert deployment(daemon, "production", second)["approved_by"] == "admin"
    assert sorted(p.name for p in (www / "production").iterdir()) == [
        "index.html", "only-2.0.html"]
    assert candidate(daemon, tmp_path / "apt2", "production") == "2.0"
    install(tmp_path / "apt2", "site-ick")
    assert on_this_machine("/usr/bin/site-ick") == "site 2.0\n"
    # roll-back: the older build's files and version again
    back = daemon.ick("rollback", "site", "production", "--wait")
    assert back.returncode == 0, back.stdout + back.stderr
    assert sorted(p.name for p in (www / "production").iterdir()) == [
        "index.html", "only-1.0.html"]
    assert (www / "production" / "index.html").read_text() == "<h1>site 1.0</h1>\n"
    apt_dir = tmp_path / "apt1"
    assert candidate(daemon, apt_dir, "production") == "1.0"
    assert candidate(daemon, tmp_path / "apts", "staging") == "2.0"
    # apt on this machine downgrades to what production holds
    installed = install(apt_dir, "--allow-downgrades", "site-ick=1.0")
    assert "The following packages will be DOWNGRADED:\n  site-ick\n" in installed, installed
    assert on_this_machine("/usr/bin/site-ick") == "site 1.0\n"
    assert on_this_machine("dpkg-query", "-W", "site-ick") == "site-ick\t1.0\n"
    listed = json.loads(ok(daemon, "deployments", "--json"))
    assert not [d for d in listed if d["build"] == feature]
    assert listed[0]["reason"] == "rollback"
