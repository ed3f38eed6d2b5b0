"""The shared fixtures and helpers keep their promises: a daemon that never says it is
listening fails its start within the deadline, saying so, and is not left running."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.daemon import Daemon, DaemonStartError


class Silent(Daemon):
    """A 'daemon' that prints half a line, with no newline, and then hangs."""

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-c",
                "import sys, time; sys.stdout.write('ick: listen'); sys.stdout.flush(); "
                "sys.stderr.write('stuck starting\\n'); sys.stderr.flush(); time.sleep(600)"]


class Quitter(Daemon):
    """A 'daemon' that exits without a word on stdout."""

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-c", "import sys; sys.exit('no config here')"]


# A start whose deadline did not work would hang for the fake's 600 s; fail well before.
@pytest.mark.timeout(60)
def test_a_daemon_that_never_says_it_listens_fails_at_the_deadline(tmp_path: Path) -> None:
    daemon = Silent(tmp_path / "state")
    with pytest.raises(DaemonStartError) as raised:
        daemon.start(timeout=0.5)
    message = str(raised.value)
    assert message.startswith("ick serve did not say it was listening within 0.5 s;"), message
    assert "stuck starting" in message  # the end of its log says what it was doing
    assert daemon.proc is not None and daemon.proc.poll() is not None  # killed, not left


@pytest.mark.timeout(60)
def test_a_daemon_that_exits_at_once_fails_saying_so(tmp_path: Path) -> None:
    daemon = Quitter(tmp_path / "state")
    with pytest.raises(DaemonStartError) as raised:
        daemon.start()
    message = str(raised.value)
    assert message.startswith("ick serve exited before it said it was listening;"), message
    assert "no config here" in message
