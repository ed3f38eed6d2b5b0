"""The CLI when the daemon dies under it: one line and exit 3, never a traceback."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO

import pytest

from tests.daemon import Daemon

SLOW = """
projects:
  - project: slow
    pipelines: [slow]
pipelines:
  - pipeline: slow
    actions:
      - shell: 'echo started; sleep 300'
        where: host
"""


def read_until(stream: IO[bytes], text: bytes, timeout: float = 30) -> bytes:
    """What `stream` says until it has said `text` (bounded in time)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{text!r} not printed: {seen!r}"
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream.fileno(), 65536)
            assert chunk, f"output ended before {text!r}: {seen!r}"
            seen += chunk
    return seen


@pytest.mark.parametrize("command", [["trigger", "slow", "--wait"], ["log", "-f", "1"]])
def test_a_daemon_dying_mid_command_is_exit_3_with_one_line(
    start_daemon: Callable[..., Daemon], command: list[str],
) -> None:
    daemon = start_daemon()
    daemon.apply(SLOW)
    if command[0] == "log":
        daemon.trigger("slow")
    cli = subprocess.Popen([sys.executable, "-m", "ick", *command], env=daemon.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert cli.stdout is not None
        read_until(cli.stdout, b"started")  # the CLI follows the log now
        daemon.stop(signal.SIGKILL)
        _, raw = cli.communicate(timeout=30)
        err = raw.decode()
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(10)
        daemon.start()  # which kills what the dead daemon's build left running
        assert daemon.wait_build(1)["state"] == "interrupted"
    assert "Traceback" not in err
    assert cli.returncode == 3, err
    assert err.count("\n") == 1
    assert err.startswith("ick: error: lost the connection to ick at ")
