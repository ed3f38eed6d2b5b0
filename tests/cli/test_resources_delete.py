"""`ick projects delete` asks first, naming the builds that go with the project; a deleted
project's build offers no Rebuild, and +rebuild is a 409 saying why (issue 22, finding 16)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.daemon import Daemon
from tests.ui.web import http_session

ICKFILE = """
projects:
  - project: hello
    pipelines: [p]
pipelines:
  - pipeline: p
    actions:
      - shell: "true"
        where: host
"""


def on_a_terminal(daemon: Daemon, answer: bytes, *args: str) -> tuple[int, str]:
    """Run `ick ARGS` with a terminal as its stdin, answer its question; (status, output)."""
    main, side = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "ick", *args], stdin=side,
                            stdout=side, stderr=side, env=daemon.env)
    os.close(side)
    seen = b""
    while b"[y/N]" not in seen:
        chunk = os.read(main, 1024)
        assert chunk, seen
        seen += chunk
    os.write(main, answer + b"\n")
    status = proc.wait(timeout=60)
    try:
        while chunk := os.read(main, 1024):
            seen += chunk
    except OSError:  # the terminal closed with the process
        pass
    os.close(main)
    return status, seen.decode(errors="replace")


def test_delete_asks_and_a_deleted_project_s_build_cannot_be_rebuilt(daemon: Daemon) -> None:
    daemon.apply(ICKFILE)
    build_id = daemon.trigger("hello")
    assert daemon.wait_build(build_id)["state"] == "succeeded"
    refused = daemon.ick("projects", "delete", "hello", input="")
    assert refused.returncode == 2
    assert refused.stderr == ("ick: error: not asking without a terminal whether to delete "
                              "project hello and its 1 builds: pass --yes\n")
    status, said = on_a_terminal(daemon, b"n", "projects", "delete", "hello")
    assert "delete project hello and its 1 builds? [y/N]" in said
    assert status == 1 and "project hello: not deleted" in said
    assert daemon.api("GET", "/projects/hello")[0] == 200
    status, said = on_a_terminal(daemon, b"y", "projects", "delete", "hello")
    assert status == 0 and "project hello: deleted" in said

    status, doc = daemon.api("POST", f"/builds/{build_id}/+rebuild")
    assert (status, doc) == (409, {"error": f"build {build_id} cannot be rebuilt: its project "
                                            "'hello' was deleted"})
    page = http_session(daemon).open(f"{daemon.url}/ui/builds/{build_id}", timeout=30)
    html = page.read().decode()
    assert ">Rebuild<" not in html
    assert "project deleted" in html


def test_delete_yes_asks_nothing(daemon: Daemon) -> None:
    daemon.apply(ICKFILE)
    result = daemon.ick("projects", "delete", "hello", "--yes", input="")
    assert (result.returncode, result.stdout) == (0, "project hello: deleted\n")
