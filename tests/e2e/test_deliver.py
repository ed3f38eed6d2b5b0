"""examples/deliver.ick end to end: git to a .deb built in a container, published to ick's
APT repository, installed by apt in a fresh container, and a web page rsynced to an sshd."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.daemon import Daemon
from tests.gitrepos import Repo
from tests.sshd import Sshd, sshd  # noqa: F401  (the fixture)

EXAMPLE = Path(__file__).parents[2] / "examples" / "deliver.ick"

# A fresh container from the same systree, as any Debian machine would use ick's repository:
# the key from /apt/key.asc, the suite from /apt/, nothing else.
VERIFY = """
projects:
  - project: verify
    parameters: {systree_name: bookworm_systree, apt_url: APT_URL}
    pipelines: [prepare_container, install]
pipelines:
  - pipeline: install
    parameters: [apt_url]
    actions:
      - shell: |
          url=$(params | sed -n 's/.*"apt_url": "\\([^"]*\\)".*/\\1/p')
          mkdir -p /etc/apt/keyrings
          /usr/lib/apt/apt-helper download-file "$url/key.asc" /etc/apt/keyrings/ick.asc
          rm -f /etc/apt/sources.list.d/*
          echo "deb [signed-by=/etc/apt/keyrings/ick.asc] $url bookworm main" \\
              > /etc/apt/sources.list
          apt-get update
          apt-get install -y hello-ick
          echo "installed: $(dpkg-query -W -f '${Version}' hello-ick)"
          hello-ick
        where: container
        network: true
"""


def make_repository(base: Path) -> Repo:
    repo = Repo(base, "hello-ick")
    repo.commit("hello-ick 1.2", {
        "VERSION": "1.2\n",
        "bin/hello-ick": '#!/bin/sh\necho "hello from ick"\n',
        "site/index.html": "<h1>hello-ick @VERSION@</h1>\n",
    })
    repo.push()
    return repo


def test_from_git_to_apt_install_and_a_served_page(
    start_daemon: Callable[..., Daemon], sshd: Sshd, tmp_path: Path,  # noqa: F811
    put_bookworm_systree: Callable[[Daemon], None],
) -> None:
    daemon = start_daemon(workers=2)
    put_bookworm_systree(daemon)  # as bookworm_systree, the name the example uses
    repo = make_repository(tmp_path / "git")
    www = tmp_path / "www"
    www.mkdir()
    (www / "old.html").write_text("old\n")
    daemon.apply(EXAMPLE.read_text(), name="deliver.ick")
    for name, value in (("deploy_key", sshd.user_key.read_text()),
                        ("known_hosts", sshd.known_hosts + "\n")):
        result = daemon.ick("secret", "set", "hello-deliver", name, input=value)
        assert result.returncode == 0, result.stderr

    build_id = daemon.trigger(
        "hello-deliver", f"git_url={repo.bare}",
        f"rsync_target=root@127.0.0.1:{www}", f"ssh_port={sshd.port}",
    )
    doc = daemon.wait_build(build_id, timeout=300)
    log = daemon.ick("log", str(build_id)).stdout
    assert doc["state"] == "succeeded", log
    assert "ick: published hello-ick 1.2+ick1 (all) to bookworm" in log
    assert sorted(p.name for p in www.iterdir()) == ["index.html"]
    assert (www / "index.html").read_text() == "<h1>hello-ick 1.2</h1>\n"

    daemon.apply(VERIFY.replace("APT_URL", f"{daemon.url}/apt"),
                 name="verify.ick")
    verify_id = daemon.trigger("verify")
    verified = daemon.wait_build(verify_id, timeout=300)
    vlog = daemon.ick("log", str(verify_id)).stdout
    assert verified["state"] == "succeeded", vlog
    assert "installed: 1.2+ick1\n" in vlog
    assert "hello from ick\n" in vlog
