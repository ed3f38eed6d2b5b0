"""`ick outputs ID` (a table, or `--json`) and `ick outputs ID PATH [-o FILE]` (the bytes, to
FILE or standard output) against a real `ick serve` whose local worker kept the outputs."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon

DATA = os.urandom(200_000)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, int]]:
    """A daemon and a build of it that kept two outputs (one a failed action's)."""
    base = tmp_path_factory.mktemp("outputs")
    (base / "data").write_bytes(DATA)
    daemon = Daemon(base / "state", workers=1).start()
    try:
        daemon.apply(f"""
projects:
  - project: outs
    pipelines: [make]
pipelines:
  - pipeline: make
    actions:
      - shell: mkdir -p dist && cp {base}/data "dist/hello 1.0.deb"
        where: host
        outputs: [dist]
      - shell: echo '<failed/>' > report.xml; exit 1
        where: host
        outputs: ["*.xml"]
""")
        build_id = daemon.trigger("outs")
        assert daemon.wait_build(build_id)["state"] == "failed"
        yield daemon, build_id
    finally:
        daemon.stop()


def test_ick_outputs_lists_them(built: tuple[Daemon, int]) -> None:
    daemon, build_id = built
    table = daemon.ick("outputs", str(build_id))
    assert table.returncode == 0, table.stderr
    assert [re.split(r"\s{2,}", line.strip()) for line in table.stdout.splitlines()] == [
        ["PATH", "SIZE", "DIGEST", "JOB"],
        ["dist/hello 1.0.deb", str(len(DATA)), sha(DATA)[:19], "0"],
        ["report.xml", "10", sha(b"<failed/>\n")[:19], "0"],
    ]
    assert len({len(line) for line in table.stdout.splitlines()}) == 1  # in columns
    listed = daemon.ick("outputs", str(build_id), "--json")
    assert json.loads(listed.stdout) == [
        {"path": "dist/hello 1.0.deb", "size": len(DATA), "digest": sha(DATA), "job": 0},
        {"path": "report.xml", "size": 10, "digest": sha(b"<failed/>\n"), "job": 0},
    ]
    assert json.loads(daemon.ick("build", str(build_id), "--json").stdout)["outputs"] == (
        json.loads(listed.stdout))
    shown = daemon.ick("build", str(build_id)).stdout
    assert (f"  outputs (ick outputs ID PATH downloads one):\n"
            f"    dist/hello 1.0.deb: {len(DATA)} bytes\n    report.xml: 10 bytes\n") in shown


def test_ick_outputs_path_downloads_one(built: tuple[Daemon, int], tmp_path: Path) -> None:
    daemon, build_id = built
    target = tmp_path / "got.deb"
    got = daemon.ick("outputs", str(build_id), "dist/hello 1.0.deb", "-o", str(target))
    assert (got.returncode, got.stdout, got.stderr) == (0, "", "")
    assert target.read_bytes() == DATA
    to_stdout = subprocess.run(
        [sys.executable, "-m", "ick", "outputs", str(build_id), "report.xml"],
        capture_output=True, env=daemon.env, timeout=60)
    assert (to_stdout.returncode, to_stdout.stdout) == (0, b"<failed/>\n")


def test_ick_outputs_says_what_is_missing(built: tuple[Daemon, int], tmp_path: Path) -> None:
    daemon, build_id = built
    missing = daemon.ick("outputs", str(build_id), "nothing.deb", "-o", str(tmp_path / "x"))
    assert (missing.returncode, missing.stderr) == (
        2, f"ick: error: build {build_id} has no output 'nothing.deb'\n")
    assert not (tmp_path / "x").exists()
    unknown = daemon.ick("outputs", "99999")
    assert (unknown.returncode, unknown.stderr) == (2, "ick: error: no build 99999\n")
