"""End to end: `archive:` and `populate_workspace` round trips keep what a root file system
needs (owners, modes, device nodes, hard links), and `globs:` picks what goes in."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.daemon import Daemon

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: makes device nodes and files of other owners")

ICK = """
projects:
  - project: make
    parameters: {artifact_name: specials}
    pipelines: [make]
  - project: restore
    parameters: {workspace_artifact: specials}
    pipelines: [restore]
  - project: some
    parameters: {globs: ["**/*.txt"]}
    pipelines: [some]
  - project: none
    parameters: {globs: ["*.none"]}
    pipelines: [some]
  - project: outside
    parameters: {globs: ["../*"]}
    pipelines: [some]
pipelines:
  - pipeline: make
    actions:
      - shell: |
          mkdir -p dir/sub
          echo data > dir/file
          chown 1234:5678 dir/file
          chmod 4751 dir/file
          ln dir/file dir/hardlink
          ln -s file dir/symlink
          mknod dir/null c 1 3
          mkfifo dir/fifo
          chmod 0700 dir/sub
          chown 42:43 dir/sub
        where: host
      - archive: workspace
        where: host
  - pipeline: restore
    actions:
      - action: populate_workspace
        where: host
      - shell: |
          stat -c '%n %u:%g %a %F %h %t,%T' dir/file dir/hardlink dir/null dir/fifo dir/sub
          test "$(stat -c %i dir/file)" = "$(stat -c %i dir/hardlink)" && echo one inode
          echo "link to $(readlink dir/symlink), holding $(cat dir/file)"
        where: host
  - pipeline: some
    actions:
      - shell: |
          mkdir -p a/b c .hidden
          echo 1 > a/b/x.txt; echo 2 > a/y.log; echo 3 > c/z.txt; echo 4 > top.txt
          echo 5 > .hidden/h.txt
        where: host
      - archive: workspace
        artifact_name: some
        where: host
"""


def test_owners_modes_devices_and_hard_links_survive_a_round_trip(daemon: Daemon) -> None:
    daemon.apply(ICK)
    made = daemon.wait_build(daemon.trigger("make"))
    assert made["state"] == "succeeded", daemon.wait_log(made["id"], "")
    stored = made["actions"][1]
    assert stored["artifact"] == "specials"
    assert stored["digest"].startswith("sha256:")
    restored = daemon.wait_build(daemon.trigger("restore"))
    log = daemon.wait_log(restored["id"], "holding")
    assert restored["state"] == "succeeded", log
    for line in [
        "dir/file 1234:5678 4751 regular file 2 0,0",
        "dir/hardlink 1234:5678 4751 regular file 2 0,0",
        "dir/null 0:0 644 character special file 1 1,3",
        "dir/fifo 0:0 644 fifo 1 0,0",
        "dir/sub 42:43 700 directory 2 0,0",
        "one inode",
        "link to file, holding data",
    ]:
        assert line + "\n" in log


def members(daemon: Daemon, name: str, tmp_path: Path) -> list[str]:
    path = tmp_path / name
    assert daemon.ick("artifacts", "get", name, "-o", str(path)).returncode == 0
    listing = subprocess.run(["tar", "-I", "zstd", "-tf", str(path)], capture_output=True,
                             text=True, check=True)
    return sorted(listing.stdout.split())


def test_globs_pick_what_goes_in(daemon: Daemon, tmp_path: Path) -> None:
    daemon.apply(ICK)
    build = daemon.wait_build(daemon.trigger("some"))
    assert build["state"] == "succeeded", daemon.wait_log(build["id"], "")
    assert members(daemon, "some", tmp_path) == [".hidden/h.txt", "a/b/x.txt", "c/z.txt",
                                                 "top.txt"]
    for project, message in [
        ("none", "archive: nothing in the workspace matches ['*.none']"),
        ("outside", "globs: '../*' must stay inside the workspace (no '/' at the start, no '..')"),
    ]:
        failed = daemon.wait_build(daemon.trigger(project))
        assert failed["state"] == "failed"
        assert failed["actions"][1]["message"] == message
