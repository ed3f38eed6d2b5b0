"""The rsync action end to end, against a real sshd on loopback with keys from secrets."""

from __future__ import annotations

import os
from pathlib import Path

from tests.daemon import Daemon
from tests.sshd import Sshd, keygen, sshd  # noqa: F401  (the fixture)

SITE = """
projects:
  - project: site
    parameters: {rsync_target: TARGET}
    pipelines: [publish]
pipelines:
  - pipeline: publish
    actions:
      - shell: |
          mkdir -p public/sub
          echo '<h1>hello</h1>' > public/index.html
          echo 'a' > public/sub/a.txt
        where: host
      - action: rsync
        rsync_src: SRC
        ssh_port: PORT
        ssh_key_secret: deploy_key
        known_hosts_secret: known_hosts
        where: host
"""


def setup(daemon: Daemon, sshd: Sshd, target: Path, known_hosts: str,  # noqa: F811
          src: str = "public", site: str = SITE) -> None:
    text = (site.replace("TARGET", f"root@127.0.0.1:{target}").replace("PORT", str(sshd.port))
            .replace("SRC", src))
    # The target comes from the build parameter: rsync_target is not on the action.
    daemon.apply(text)
    for name, value in (("deploy_key", sshd.user_key.read_text()),
                        ("known_hosts", known_hosts + "\n")):
        result = daemon.ick("secret", "set", "site", name, input=value)
        assert result.returncode == 0, result.stderr


def test_rsync_makes_the_target_hold_exactly_the_folder(
    daemon: Daemon, sshd: Sshd, tmp_path: Path  # noqa: F811
) -> None:
    target = tmp_path / "www"
    (target / "old").mkdir(parents=True)
    (target / "old" / "stale.html").write_text("stale\n")
    setup(daemon, sshd, target, sshd.known_hosts)
    build_id = daemon.trigger("site")
    doc = daemon.wait_build(build_id)
    log = daemon.ick("log", str(build_id)).stdout
    assert doc["state"] == "succeeded", log
    assert (target / "index.html").read_text() == "<h1>hello</h1>\n"
    assert (target / "sub" / "a.txt").read_text() == "a\n"
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*")) == [
        "index.html", "sub", "sub/a.txt"
    ]
    assert f"ick: rsync public/ to root@127.0.0.1:{target} (port {sshd.port})" in log
    assert "PRIVATE KEY" not in log


def test_a_file_of_the_same_size_and_time_is_replaced_by_its_content(
    daemon: Daemon, sshd: Sshd, tmp_path: Path  # noqa: F811
) -> None:
    # What a roll-back meets: the target's file and the build's differ only in content.
    target = tmp_path / "same"
    target.mkdir()
    (target / "index.html").write_text("<h1>HELLO</h1>\n")
    os.utime(target / "index.html", (1_000_000_000, 1_000_000_000))
    setup(daemon, sshd, target, sshd.known_hosts,
          site=SITE.replace("echo 'a' > public/sub/a.txt",
                            "echo 'a' > public/sub/a.txt\n          "
                            "touch -d @1000000000 public/index.html"))
    build_id = daemon.trigger("site")
    assert daemon.wait_build(build_id)["state"] == "succeeded", \
        daemon.ick("log", str(build_id)).stdout
    assert (target / "index.html").read_text() == "<h1>hello</h1>\n"


def test_an_unknown_host_key_stops_the_upload(
    daemon: Daemon, sshd: Sshd, tmp_path: Path  # noqa: F811
) -> None:
    target = tmp_path / "www"
    target.mkdir()
    (target / "keep.html").write_text("keep\n")
    other = keygen(tmp_path / "other_host_key")
    setup(daemon, sshd, target, f"[127.0.0.1]:{sshd.port} {other}")
    doc = daemon.wait_build(daemon.trigger("site"))
    assert doc["state"] == "failed"
    assert doc["actions"][1]["message"] == (
        "ssh could not verify the host key of 127.0.0.1 against secret 'known_hosts'"
    )
    assert [p.name for p in target.iterdir()] == ["keep.html"]


def test_the_source_must_be_a_folder_in_the_workspace(
    daemon: Daemon, sshd: Sshd, tmp_path: Path  # noqa: F811
) -> None:
    setup(daemon, sshd, tmp_path / "www", sshd.known_hosts, src="../..")
    doc = daemon.wait_build(daemon.trigger("site"))
    assert doc["actions"][1]["message"] == (
        "rsync_src: '../..' must stay inside the workspace (no '/' at the start, no '..')")
