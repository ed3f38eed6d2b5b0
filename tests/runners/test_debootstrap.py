"""End to end, the seed's own example made real (and small): debootstrap a systree, install
a package in a chroot, archive it, then run a python action in a container made from it.

The only test that runs debootstrap through ick (20-70 s, from the host's Debian mirror);
the rest share the session's cached tree (tests/conftest.py: bookworm_tarball).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: debootstrap, chroot, overlayfs and systemd-nspawn")

ICK = """
projects:
  - project: py_systree
    parameters: {debian_codename: bookworm, artifact_name: py_systree}
    pipelines: [build_systree]
  - project: hello_py
    parameters: {systree_name: py_systree, greeting: hello}
    pipelines: [prepare_container, hello_py]
pipelines:
  - pipeline: build_systree
    parameters: [debian_codename, artifact_name]
    actions:
      - debootstrap: auto
        where: host
      - shell: apt-get install -y python3
        where: chroot
      - archive: workspace
        where: host
  - pipeline: prepare_container
    actions:
      - action: populate_systree
        where: host
  - pipeline: hello_py
    parameters: [greeting]
    actions:
      - python: |
          import os
          print("python in a container says", params["greeting"], "from", os.getcwd())
        where: container
"""


@pytest.fixture
def state_on_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """The daemon's state on a tmpfs: writing and deleting a whole Debian tree on this ext4
    stalls its journal (online discard) for the tests that come after."""
    state = tmp_path / "state"
    state.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", str(state)], check=True)
    try:
        yield state
    finally:
        subprocess.run(["umount", "--lazy", str(state)], check=True)


def test_debootstrap_chroot_archive_then_python_in_a_container(
        state_on_tmpfs: Path, start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon()
    assert daemon.state_dir == state_on_tmpfs
    daemon.apply(ICK)
    built = daemon.wait_build(daemon.trigger("py_systree"), timeout=900)
    log = daemon.wait_log(built["id"], "")
    assert built["state"] == "succeeded", log[-3000:]
    assert "ick: debootstrap bookworm (minbase) from http" in log
    assert "Setting up python3 " in log
    with open("/proc/mounts") as f:
        assert str(daemon.state_dir) + "/" not in f.read()
    assert built["actions"][2]["artifact"] == "py_systree"

    hello = daemon.wait_build(daemon.trigger("hello_py"))
    log = daemon.wait_log(hello["id"], "python in a container")
    assert hello["state"] == "succeeded", log
    assert "python in a container says hello from /workspace\n" in log
    daemon.stop()
