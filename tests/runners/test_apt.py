"""apt_publish end to end: real reprepro and gpg, the daemon serving /apt/, real apt reading it."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

from tests.daemon import Daemon

PACKAGE = """
projects:
  - project: hello
    parameters: {version: "1.0"}
    pipelines: [package]
pipelines:
  - pipeline: package
    parameters: [version]
    actions:
      - shell: |
          v=$(params | python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
          mkdir -p pkg/DEBIAN pkg/usr/bin
          printf 'Package: hello-ick\\nVersion: %s\\nArchitecture: all\\n' "$v" > pkg/DEBIAN/control
          printf 'Maintainer: ick <ick@example.org>\\nDescription: says hello\\n' \\
              >> pkg/DEBIAN/control
          printf '#!/bin/sh\\necho "hello from ick %s"\\n' "$v" > pkg/usr/bin/hello-ick
          chmod 755 pkg/usr/bin/hello-ick
          # Reproducible: one version is one file, whichever build made it (the pool is
          # shared between suites, and reprepro refuses a same-named file that differs).
          find pkg -exec touch -h -d @1700000000 {} +
          SOURCE_DATE_EPOCH=1700000000 dpkg-deb --root-owner-group --build pkg \
              "hello-ick_${v}_all.deb"
        where: host
      - action: apt_publish
        debs: ["*.deb"]
        distribution: ickdist
        where: host
"""


def publish(daemon: Daemon, version: str) -> dict[str, object]:
    return daemon.wait_build(daemon.trigger("hello", f"version={version}"))


def apt(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Real apt, with its own lists and cache, reading only our source."""
    options = [
        f"-oDir::Etc::SourceList={tmp / 'sources.list'}", "-oDir::Etc::SourceParts=/nonexistent",
        f"-oDir::State::Lists={tmp / 'lists'}", f"-oDir::Cache={tmp / 'cache'}",
        "-oAPT::Sandbox::User=root", "-oDebug::NoLocking=1",
    ]
    return subprocess.run([args[0], *options, *args[1:]], capture_output=True, text=True,
                          timeout=120, cwd=tmp)


def apt_candidate(daemon: Daemon, tmp: Path) -> str:
    (tmp / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (tmp / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    key = tmp / "key.asc"
    with urllib.request.urlopen(f"{daemon.url}/apt/key.asc", timeout=30) as response:
        key.write_bytes(response.read())
    (tmp / "sources.list").write_text(
        f"deb [signed-by={key}] {daemon.url}/apt ickdist main\n"
    )
    update = apt(tmp, "apt-get", "update")
    assert update.returncode == 0 and "W:" not in update.stderr, update.stdout + update.stderr
    policy = apt(tmp, "apt-cache", "policy", "hello-ick")
    assert policy.returncode == 0, policy.stderr
    return next(line.split()[1] for line in policy.stdout.splitlines()
                if line.strip().startswith("Candidate:"))


def test_publish_sign_serve_and_replace(daemon: Daemon, tmp_path: Path) -> None:
    daemon.apply(PACKAGE)
    first = publish(daemon, "1.0")
    assert first["state"] == "succeeded", daemon.ick("log", str(first["id"])).stdout
    action = first["actions"][1]  # type: ignore[index]
    assert action["published"] == ["hello-ick 1.0 (all)"]
    assert action["distribution"] == "ickdist"
    key = (daemon.state_dir / "apt" / "www" / "key.asc").read_text()
    assert key.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert apt_candidate(daemon, tmp_path / "apt1") == "1.0"

    again = publish(daemon, "1.0")
    assert again["state"] == "failed"
    assert again["actions"][1]["message"] == (  # type: ignore[index]
        "version 1.0 of hello-ick is already in ickdist"
    )

    newer = publish(daemon, "2.0")
    assert newer["state"] == "succeeded", daemon.ick("log", str(newer["id"])).stdout
    assert apt_candidate(daemon, tmp_path / "apt2") == "2.0"
    pool = sorted(p.name for p in (daemon.state_dir / "apt" / "www" / "pool").rglob("*.deb"))
    assert pool == ["hello-ick_2.0_all.deb"]

    older = publish(daemon, "1.5")
    assert older["state"] == "failed"
    assert older["actions"][1]["message"] == (  # type: ignore[index]
        "version 1.5 of hello-ick is older than 2.0, which ickdist already has"
    )
    # One key for the repository's whole life, and no gpg-agent left running for it.
    assert (daemon.state_dir / "apt" / "www" / "key.asc").read_text() == key
    assert gpg_agents(daemon.state_dir) == []


def gpg_agents(state_dir: Path) -> list[str]:
    """Command lines of running gpg-agents for a GNUPGHOME under `state_dir`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv and argv[0].endswith("gpg-agent") and str(state_dir) in " ".join(argv):
            found.append(" ".join(argv))
    return found


def test_only_the_published_tree_is_served(daemon: Daemon) -> None:
    for path in ("/apt/", "/apt/key.asc", "/apt/../ick.db", "/apt/%2e%2e/ick.db",
                 "/apt/../apt/reprepro/conf/distributions"):
        status, doc = daemon.api("GET", path, token=None)
        assert status in (403, 404), (path, status)
    (daemon.state_dir / "apt" / "www" / "link").symlink_to(daemon.state_dir / "admin.token")
    status, _ = daemon.api("GET", "/apt/link", token=None)
    assert status in (403, 404)


def test_a_bad_distribution_or_glob_fails_clearly(daemon: Daemon) -> None:
    daemon.apply(PACKAGE.replace("distribution: ickdist", "distribution: ../up")
                 .replace('debs: ["*.deb"]', 'debs: ["*.deb", "missing/*.deb"]'))
    build = publish(daemon, "1.0")
    assert build["actions"][1]["message"] == (  # type: ignore[index]
        "debs: nothing in the workspace matches 'missing/*.deb'"
    )
    daemon.apply(PACKAGE.replace("distribution: ickdist", "distribution: ../up"))
    build = publish(daemon, "1.0")
    assert build["actions"][1]["message"] == (  # type: ignore[index]
        "bad distribution '../up': use letters, digits, '.', '_', '-'"
    )


def test_each_distribution_is_its_own_suite(daemon: Daemon) -> None:
    daemon.apply(PACKAGE)
    assert publish(daemon, "1.0")["state"] == "succeeded"
    daemon.apply(PACKAGE.replace("distribution: ickdist", "distribution: ickdist-testing"))
    second = publish(daemon, "1.0")  # the same version, in another suite: no conflict
    assert second["state"] == "succeeded", daemon.ick("log", str(second["id"])).stdout
    dists = daemon.state_dir / "apt" / "www" / "dists"
    assert sorted(p.name for p in dists.iterdir()) == ["ickdist", "ickdist-testing"]
    for suite in ("ickdist", "ickdist-testing"):
        status, text = daemon.api("GET", f"/apt/dists/{suite}/InRelease", token=None)
        assert status == 200 and f"Codename: {suite}\n" in text
        assert "-----BEGIN PGP SIGNATURE-----" in text
