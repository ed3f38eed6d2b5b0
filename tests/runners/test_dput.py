"""The dput action end to end: a real .changes (dpkg-genchanges), real dput-ng, a local target."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.daemon import Daemon

UPLOAD = """
projects:
  - project: upload
    pipelines: [upload]
pipelines:
  - pipeline: upload
    actions:
      - shell: |
          mkdir -p src/debian pkg/DEBIAN
          printf 'Package: hello-ick\\nVersion: 1.0\\nArchitecture: all\\nSection: misc\\n' \\
              > pkg/DEBIAN/control
          printf 'Priority: optional\\nMaintainer: ick <ick@example.org>\\nDescription: hi\\n' \\
              >> pkg/DEBIAN/control
          dpkg-deb --root-owner-group --build pkg hello-ick_1.0_all.deb
          cd src
          printf 'Source: hello-ick\\nSection: misc\\nPriority: optional\\n' > debian/control
          printf 'Maintainer: ick <ick@example.org>\\n\\n' >> debian/control
          printf 'Package: hello-ick\\nArchitecture: all\\nDescription: hi\\n' >> debian/control
          printf 'hello-ick (1.0) ickdist; urgency=low\\n\\n  * First.\\n\\n' > debian/changelog
          printf ' -- ick <ick@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\\n' \\
              >> debian/changelog
          dpkg-distaddfile -fdebian/files hello-ick_1.0_all.deb misc optional
          dpkg-genchanges -b -O../hello-ick_1.0_all.changes
        where: host
      - action: dput
        changes: "*.changes"
        dput_target: TARGET
        where: host
"""


@pytest.fixture
def dput_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME whose ~/.dput.cf names a local target; the daemon started after this uses it."""
    home = tmp_path / "home"
    incoming = tmp_path / "incoming"
    home.mkdir()
    incoming.mkdir()
    (home / ".dput.cf").write_text(
        f"[ick-test]\nmethod = local\nincoming = {incoming}\nallow_unsigned_uploads = 1\n"
    )
    monkeypatch.setenv("HOME", str(home))
    return incoming


def test_dput_uploads_the_changes_and_its_files(dput_home: Path, daemon: Daemon) -> None:
    daemon.apply(UPLOAD.replace("TARGET", "ick-test"))
    build_id = daemon.trigger("upload")
    doc = daemon.wait_build(build_id)
    log = daemon.ick("log", str(build_id)).stdout
    assert doc["state"] == "succeeded", log
    assert "ick: dput hello-ick_1.0_all.changes to ick-test\n" in log
    assert sorted(p.name for p in dput_home.iterdir()) == [
        "hello-ick_1.0_all.changes", "hello-ick_1.0_all.deb"
    ]


def test_an_unknown_target_fails_saying_so(dput_home: Path, daemon: Daemon) -> None:
    daemon.apply(UPLOAD.replace("TARGET", "nowhere"))
    build_id = daemon.trigger("upload")
    doc = daemon.wait_build(build_id)
    assert doc["state"] == "failed"
    assert doc["actions"][1]["message"] == (
        "dput could not upload hello-ick_1.0_all.changes to nowhere (exit status 2)"
    )
    assert "we don't know about it" in daemon.ick("log", str(build_id)).stdout
    assert list(dput_home.iterdir()) == []
