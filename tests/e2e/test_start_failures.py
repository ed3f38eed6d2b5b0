"""A build that cannot start fails, saying why, and frees its slot for the next one."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from tests.daemon import Daemon

HELLO = """
projects:
  - project: hello
    pipelines: [hello]
pipelines:
  - pipeline: hello
    actions:
      - shell: echo hello there
        where: host
"""


def test_a_workspace_that_cannot_be_made_fails_the_build_and_frees_the_slot(
    start_daemon: Callable[..., Daemon],
) -> None:
    daemon = start_daemon(workers=1)
    daemon.apply(HELLO)
    (daemon.state_dir / "workspaces" / "1").write_text("a file where build 1's folder goes")
    first = daemon.wait_build(daemon.trigger("hello"), timeout=20)
    assert first["state"] == "failed"
    assert first["actions"][0]["message"] == "cannot start the build: Not a directory"
    (daemon.state_dir / "workspaces" / "1").unlink()
    second = daemon.wait_build(daemon.trigger("hello"), timeout=20)
    assert second["state"] == "succeeded"
    assert "hello there" in daemon.wait_log(second["id"], "hello there")


def test_a_failure_as_the_controller_starts_a_build_fails_it_and_frees_the_slot(
    start_daemon: Callable[..., Daemon],
) -> None:
    daemon = start_daemon(workers=1)
    daemon.apply(HELLO)
    # A broken state dir: a folder among the project's secrets, which every build reads.
    broken = daemon.state_dir / "secrets" / urllib.parse.quote("hello", safe="") / "sub"
    broken.mkdir(parents=True)
    first = daemon.wait_build(daemon.trigger("hello"), timeout=20)
    assert first["state"] == "failed"
    message = first["actions"][0]["message"]
    assert message.startswith("cannot start the build: [Errno 21] Is a directory: "), message
    assert f"ick: {message}\n" in daemon.wait_log(first["id"], "cannot start")
    assert daemon.ick("cancel", str(first["id"])).returncode == 2  # it has ended
    broken.rmdir()
    second = daemon.wait_build(daemon.trigger("hello"), timeout=20)
    assert second["state"] == "succeeded"
