"""A full disk under the logs fails the build with one clear line; the daemon lives on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemon import Daemon

NOISY = """
projects:
  - project: noisy
    pipelines: [p]
  - project: quiet
    pipelines: [q]
pipelines:
  - pipeline: p
    actions:
      - shell: head -c 4000000 /dev/zero | tr '\\0' 'x'
        where: host
      - shell: echo never
        where: host
  - pipeline: q
    actions:
      - shell: echo small
        where: host
"""


@pytest.fixture
def small_logs(small_tmpfs: Callable[[str, str], Path]) -> Path:
    return small_tmpfs("logs", "1m")


def test_a_full_log_disk_fails_the_build_not_the_daemon(
        small_logs: Path, start_daemon: Callable[..., Daemon]) -> None:
    daemon = start_daemon()
    daemon.apply(NOISY)
    build_id = daemon.trigger("noisy")
    doc = daemon.wait_build(build_id, timeout=60)
    assert doc["state"] == "failed"
    assert doc["actions"][0]["message"] == "cannot write the build's log: no space left on device"
    assert doc["actions"][1]["state"] == "skipped"
    # The daemon still answers, and runs the next build once there is room again.
    (small_logs / f"{build_id}.log").unlink()
    again = daemon.trigger("quiet")
    assert daemon.wait_build(again, timeout=60)["state"] == "succeeded"
    assert "small\n" in daemon.ick("log", str(again)).stdout
